"""scan --dask on a real cluster on loopback (a `dask scheduler` and two `dask
worker` processes started here): the same output, in the same order, and the
same exit status as a local scan; a worker killed mid-scan loses and
duplicates nothing; an input that keeps killing its worker is its own error
record; a scheduler that is not there, and a path the workers cannot see, are
one-line errors; the result cache works from the workers too."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from functools import partial

import pytest

from buildidtool.archives.platforms import host as host_platform
from daskcluster import DaskCluster
from filewatch import Watch
from helpers import big_copies, run
from test_cache import FILES, make_tree
from test_archives import payload  # noqa: F401
from test_remote import files, images, nginx, registry  # noqa: F401  (the real servers, on loopback)

pytest.importorskip("distributed")

# The scheduler gives up on a task after its workers died this many times more
# (Dask's default is 3): enough for the kill test, and the poison test kills fewer workers.
ALLOWED_FAILURES = 1


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = DaskCluster(tmp_path_factory.mktemp("dask"),
                    env={"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": str(ALLOWED_FAILURES)})
    try:
        c.start_scheduler()
        c.add_worker()
        c.add_worker()
        c.wait_for_workers(2)
        yield c
    finally:
        c.stop()
        assert c.survivors() == []


@pytest.fixture(scope="module")
def tree(samples, tmp_path_factory):
    return make_tree(samples, tmp_path_factory.mktemp("cluster") / "tree")


def both(cluster, *args, timeout=300):
    """The local scan and the same scan on the cluster."""
    local = run("scan", *args, timeout=timeout)
    remote = run("scan", "--dask", cluster.address, *args, timeout=timeout)
    assert b"Traceback" not in remote.stderr, remote.stderr
    return local, remote


@pytest.mark.parametrize("form", [["--json"], ["--json", "--verify"], ["--csv"], [],
                                  ["--format", "cyclonedx-json", "--reproducible"],
                                  ["--format", "spdx-json", "--reproducible"]])
def test_the_same_output_as_a_local_scan(cluster, tree, tmp_path, form):
    missing = tmp_path / "missing"
    local, remote = both(cluster, *form, tree, missing)
    assert local.stdout and remote.stdout == local.stdout
    assert (remote.returncode, remote.stderr) == (local.returncode, local.stderr) and local.returncode == 2


def test_relative_paths_name_the_same_files(cluster, tree):
    args = ["scan", "--json", "--dask", cluster.address, "tree"]
    remote = subprocess.run([sys.executable, "-m", "buildidtool", *args], cwd=tree.parent, capture_output=True,
                            timeout=300)
    local = subprocess.run([sys.executable, "-m", "buildidtool", *args[:2], "tree"], cwd=tree.parent,
                           capture_output=True, timeout=300)
    assert remote.returncode == 0 and remote.stdout == local.stdout
    assert json.loads(remote.stdout.splitlines()[0])["file"].startswith("tree/")


def test_a_dask_worker_killed_mid_scan_loses_and_duplicates_nothing(cluster, samples, tmp_path):
    root = big_copies(samples.path("hello-linux-amd64"), tmp_path, 200)
    want = run("scan", "--json", "--verify", root, timeout=300)
    assert want.returncode == 0
    victim = cluster.worker_pids()[0]

    p = subprocess.Popen([sys.executable, "-m", "buildidtool", "scan", "--json", "--verify", "--dask",
                          cluster.address, str(root)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines, got = [], {}

    def read_all():  # as it comes: a full pipe would stall the scan
        for line in p.stdout:
            lines.append(line)
        got["err"] = p.stderr.read()
    reader = threading.Thread(target=read_all)
    reader.start()
    deadline = time.monotonic() + 120
    while not lines and time.monotonic() < deadline:
        time.sleep(0.01)
    assert p.poll() is None and 0 < len(lines) < 150, "the scan was not under way"
    os.kill(victim, signal.SIGKILL)
    reader.join(timeout=300)
    p.wait(timeout=10)
    names = [json.loads(line)["file"][-4:] for line in lines]
    assert names == [f"{i:04}" for i in range(200)], (len(names), len(set(names)), p.returncode, got["err"])
    assert b"".join(lines) == want.stdout
    assert (p.returncode, got["err"]) == (0, want.stderr)
    cluster.wait_for_workers(2)  # the nanny starts a new one, for the tests after this
    assert victim not in cluster.worker_pids()


def test_the_clients_log_stays_off_stderr(cluster, tree):
    """What Dask's client logs while a scan recovers (a result gathered again
    after its worker died: a warning of distributed.client, which has a stderr
    handler of its own) must not reach stderr, whose lines are ours."""
    script = ("import logging, sys\n"
              "from buildidtool.ops.scan import main\n"
              f"code = main(['--json', '--dask', {cluster.address!r}, {str(tree)!r}])\n"
              "logging.getLogger('distributed.client').warning(\"Couldn't gather 1 keys, rescheduling ('x',)\")\n"
              "logging.getLogger('distributed.worker').error(\"a worker's error\")\n"
              "sys.exit(code)\n")
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=300)
    assert p.returncode == 0 and p.stdout and p.stderr.startswith(b"scanned "), p.stderr
    assert p.stderr.count(b"\n") == 1, p.stderr  # the summary alone


def test_an_input_that_keeps_killing_its_worker_is_its_own_error_record(cluster, tree):
    """Each time the victim is read, its reader kills the Dask worker it runs
    in: the batch's task fails for good (KilledWorker), its inputs go on one
    task each, and only the victim's fails again."""
    from buildidtool.cluster import Cluster
    from buildidtool.ops.scan import PART_RECORDS, _Combine, _fault, _work, asked_for
    from buildidtool.tree import ScanStats, walk

    asked = asked_for(False, False)
    real = partial(_work, asked, None, None)

    def work(item):  # pickled by value (cloudpickle) to the workers
        if item.endswith("notes.txt"):
            os.kill(os.getppid(), signal.SIGKILL)  # the forked reader's parent: the Dask worker
            os._exit(0)
        return real(item)

    items = [w.path for w in walk([str(tree)], False, ScanStats())]
    c = Cluster.connect(cluster.address)
    try:
        got = [r for recs in c.ordered(items, work, partial(_fault, asked), _Combine(None), part=PART_RECORDS)
               for r in recs]
    finally:
        c.close()  # else its client's event loop thread outlives the test in pytest's process
    assert [r.file for r in got] == items
    by = {os.path.relpath(r.file, tree): r for r in got}
    assert by["notes.txt"].error == "Dask workers died while reading this file (KilledWorker)"
    assert [(k, r.error) for k, r in by.items() if k != "notes.txt" and r.error] == []
    assert by["bin/hello"].build_id
    cluster.wait_for_workers(2)


def test_a_slow_file_stops_at_the_time_limit_on_the_cluster(cluster, samples, tmp_path):
    root = tmp_path / "slow"
    root.mkdir()
    slow = root / "slow"
    shutil.copy(samples.path("hello-linux-amd64"), slow)
    os.truncate(slow, 3 << 30)  # 3 GiB to hash (sparse: nothing on disk)
    shutil.copy(samples.path("hello-linux-arm64"), root / "quick")
    local, remote = both(cluster, "--json", "--verify", "--time-limit", "0.3", root)
    assert remote.stdout == local.stdout and remote.returncode == local.returncode == 2
    recs = [json.loads(line) for line in remote.stdout.splitlines()]
    assert [r["error"] for r in recs] == [None, "stopped after the per-file time limit of 0.3 s"]


def test_a_scheduler_that_is_not_there_is_a_clean_error(tree):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    r = run("scan", "--dask", f"127.0.0.1:{port}", tree, timeout=120)
    assert time.monotonic() - start < 60
    assert r.returncode == 2 and not r.stdout
    err = r.stderr.decode()
    assert err.startswith(f"buildid: 127.0.0.1:{port}: cannot reach the Dask scheduler (") and err.count("\n") == 1, err


def test_an_address_that_is_not_one_is_a_clean_error(tree):
    for address, why in (("nonsense", "missing port number in address 'nonsense'"),
                         ("udp://h:1", "unknown scheme 'udp'")):
        start = time.monotonic()
        r = run("scan", "--dask", address, tree, timeout=60)
        assert time.monotonic() - start < 20
        assert r.returncode == 2 and not r.stdout and r.stderr.decode() == (
            f"buildid: {address}: not a Dask scheduler address ({why}); give host:port or tcp://host:port\n")


def test_options_that_do_not_go_with_dask(tree):
    r = run("scan", "--dask", "127.0.0.1:1", "-j", "2", tree)
    assert r.returncode == 2 and b"Usage:" in r.stderr and b"with --dask the cluster's workers" in r.stderr
    # Without the cluster extra: a one-line error naming it.
    code = ("import sys; sys.modules['distributed'] = None\n"
            "from buildidtool.console import main\n"
            f"main(['scan', '--dask', '127.0.0.1:1', {str(tree)!r}])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert r.returncode == 2 and r.stderr.decode() == (
        "buildid: 127.0.0.1:1: --dask needs Dask's distributed scheduler: pip install 'buildidtool[cluster]'\n")


def test_plain_commands_never_import_dask(samples, tmp_path):
    f = str(samples.path("hello-linux-amd64"))
    for args in (["scan", "--json", f], ["scan", "--cache", str(tmp_path / "c.db"), f], ["read", f], [f]):
        code = ("import sys; from buildidtool.console import main\n"
                f"sys.argv = ['buildid'] + {args!r}\n"
                "try:\n main()\nexcept SystemExit:\n pass\n"
                "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed', 'tornado')"
                " or (m == 'sqlite3' and '--cache' not in sys.argv)), file=sys.stderr)")
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
        assert r.stderr.strip().splitlines()[-1] == b"[]", (args, r.stderr)


def test_the_cache_on_the_cluster(cluster, samples, tmp_path):
    """The workers' readers consult and fill the cache: the second scan opens no file anywhere."""
    root = make_tree(samples, tmp_path / "tree")
    db = tmp_path / "cache.db"
    want = run("scan", "--json", "--verify", root)
    with Watch(root) as w1:
        first = run("scan", "--json", "--verify", "--dask", cluster.address, "--cache", db, root)
    with Watch(root) as w2:
        second = run("scan", "--json", "--verify", "--dask", cluster.address, "--cache", db, root)
    assert first.stdout == second.stdout == want.stdout and first.returncode == second.returncode == 0
    assert w1.opened == FILES and w2.touched == set()


@pytest.mark.skipif(host_platform().arch != "amd64", reason="the images' default platform is linux/amd64")
def test_registry_and_url_references_are_read_by_the_workers(cluster, registry, nginx, images, samples, tmp_path):
    """Remote references are not looked for on the workers' file systems: the
    workers fetch them, and the output is the local scan's. The client's
    platform goes with the tasks (the workers were started without
    BUILDID_PLATFORM). The cache stores none of them: they are fetched again."""
    from helpers import BUILDID

    refs = [f"registry:{registry.host}/gobins:1", f"registry:{registry.host}/multi:1",
            f"{nginx.base}/hello-linux-amd64", f"{nginx.base}/rel.tar.gz"]
    for args in (["--json"], ["--json", "--verify"], []):
        local, remote = both(cluster, *args, *refs)
        assert remote.stdout == local.stdout and remote.stderr == local.stderr, args
        assert local.returncode == remote.returncode == (1 if "--verify" in args else 0), args
    lines = local.stdout.splitlines()
    assert sum(l.startswith(b"registry:") for l in lines) == 6 and sum(l.startswith(b"http://") for l in lines) == 3

    def arm(*args):
        env = {**os.environ, "BUILDID_PLATFORM": "linux/arm64"}
        return subprocess.run([*BUILDID, "scan", "--json", *map(str, args)], capture_output=True, timeout=300, env=env)
    local, remote = arm(refs[1]), arm("--dask", cluster.address, refs[1])
    assert remote.stdout == local.stdout and b'"arch": "arm64"' in remote.stdout and remote.returncode == 0

    db = tmp_path / "cache.db"
    hello = samples.path("hello-linux-amd64")
    first = run("scan", "--json", "--dask", cluster.address, "--cache", db, *refs, hello)
    before = len(nginx.requests(settle=0.3))
    second = run("scan", "--json", "--dask", cluster.address, "--cache", db, *refs, hello)
    assert first.stdout == second.stdout and first.returncode == second.returncode == 0
    assert {r[1].rsplit("/", 1)[-1] for r in nginx.requests(before + 2, settle=0.3)[before:]} >= {
        "hello-linux-amd64", "rel.tar.gz"}
    with sqlite3.connect(db) as c:
        assert [os.fsdecode(p) for (p,) in c.execute("SELECT path FROM entries")] == [str(hello)]


def _can_unshare() -> bool:
    if not shutil.which("unshare"):
        return False
    return subprocess.run(["unshare", "-m", "--propagation", "private", "true"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _can_unshare(), reason="needs unshare -m (root, util-linux) for a worker in its own mount namespace")
def test_a_path_the_workers_cannot_see_is_refused(samples, tmp_path):
    """A worker in a mount namespace of its own, where a tmpfs covers the
    directory holding the inputs: one input is missing there, another is a
    different directory of the same name."""
    hidden = tmp_path / "hidden"
    (hidden / "same-name").mkdir(parents=True)
    (hidden / "only-here").mkdir()
    shutil.copy(samples.path("hello-linux-amd64"), hidden / "same-name" / "hello")
    c = DaskCluster(tmp_path / "dask")
    try:
        c.start_scheduler()
        c.add_worker(["unshare", "-m", "--propagation", "private", "sh", "-c",
                      f'mount -t tmpfs none "{hidden}" && mkdir "{hidden}/same-name" && exec "$@"', "sh"])
        c.wait_for_workers(1)
        for name, why in (("only-here", "not visible (No such file or directory)"),
                          ("same-name", "another file (another mount namespace or container)")):
            r = run("scan", "--dask", c.address, hidden / name)
            assert r.returncode == 2 and not r.stdout
            line = r.stderr.decode()
            assert line.startswith(f"buildid: {hidden / name}: {why} on Dask worker tcp://127.0.0.1:"), line
            assert line.endswith(": the inputs must be on a file system the workers share\n") and line.count("\n") == 1
        # What they share is scanned.
        shared = tmp_path / "shared"
        shared.mkdir()
        shutil.copy(samples.path("hello-linux-amd64"), shared / "hello")
        assert run("scan", "--dask", c.address, shared).returncode == 0
    finally:
        c.stop()
        assert c.survivors() == []
