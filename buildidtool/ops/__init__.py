"""The operations, one module each: read, hash, rewrite, verify, info, diff,
scan. Each opens its input once, names errors once (`with naming(path):`) and
returns typed results with to_json(); printing them is the report layer's."""
