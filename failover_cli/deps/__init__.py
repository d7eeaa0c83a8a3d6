"""The function's dependencies: declared in the bundle, built for Lambda's platform, cached.

A bundle declares what it needs in `requirements.txt` and/or the
`[project].dependencies` of a `pyproject.toml` (declared). pip installs them
as binary wheels for the function's runtime and architecture, never for the
machine running the tool (target, builder), into a cache keyed by what was
asked for, so a second build downloads nothing. The sizes of what was
installed, per distribution, let a too-big bundle name its largest packages
(installed).
"""
