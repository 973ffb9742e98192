"""Looking inside archives, packages and container images.

Only this package knows the `ARCHIVE!/MEMBER` grammar (paths.py), the limits
(limits.py) and the image rules (image.py). magic.py tells an archive from its
first bytes and imports nothing; expand.py reads one input once, forward: members
the formats layer can use are spooled (memory up to a bound, an anonymous
temporary file beyond) and handed on as file descriptors, everything else is
skipped unspooled; member.py opens one member for read, info, verify and hash.
One module per archive format: tarball (tarheaders.py bounds tarfile's header
extensions), ziparchive, deb, rpm (with cpio), image. limits.py holds the limits
and the memory the readers may use, charged before they allocate.

Import the submodules: this one loads nothing, so that a scan of plain files
never pays for tarfile and zipfile."""
