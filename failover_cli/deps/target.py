"""Which platform a Lambda function's dependencies are built for.

Lambda runs Python on Amazon Linux: python3.12 and later on Amazon Linux 2023
(glibc 2.34), earlier ones on Amazon Linux 2 (glibc 2.26)
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html). AWS's own
recipe for compiled packages asks pip for `manylinux2014_<arch>` wheels
(https://docs.aws.amazon.com/lambda/latest/dg/python-package.html); on Amazon
Linux 2023 the newer `manylinux_2_28` and `manylinux_2_34` wheels load too, and
pip does not infer them from manylinux2014, so they are asked for by name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from failover_cli.errors import BadInput

_RUNTIME = re.compile(r"^python(3)\.(\d+)$")
_MACHINE = {"arm64": "aarch64", "x86_64": "x86_64"}
AL2023_FROM_MINOR = 12  # python3.12 is the first Python runtime on Amazon Linux 2023


@dataclass(frozen=True)
class LambdaTarget:
    """A function's runtime and architecture, as pip's platform options."""

    runtime: str = "python3.13"
    architecture: str = "arm64"

    @property
    def python_version(self) -> str:
        """ "3.13" for python3.13: pip's --python-version."""
        match = _RUNTIME.match(self.runtime)
        if match is None:
            raise BadInput(
                f"function.runtime {self.runtime} is not a Python runtime, so the bundle's "
                "dependencies cannot be built for it",
                hint="Use python3.12, python3.13 or python3.14.",
            )
        return f"{match.group(1)}.{match.group(2)}"

    @property
    def machine(self) -> str:
        return _MACHINE.get(self.architecture, self.architecture)

    @property
    def platforms(self) -> tuple[str, ...]:
        """pip's --platform values, the one AWS documents first."""
        minor = int(self.python_version.split(".")[1])
        tags = [f"manylinux2014_{self.machine}"]
        if minor >= AL2023_FROM_MINOR:
            tags += [f"manylinux_2_28_{self.machine}", f"manylinux_2_34_{self.machine}"]
        return tuple(tags)

    def describe(self) -> str:
        """For people: 'manylinux2014_aarch64, CPython 3.13 (Lambda arm64)'."""
        return f"{self.platforms[0]}, CPython {self.python_version} (Lambda {self.architecture})"

    def pip_options(self) -> list[str]:
        options: list[str] = []
        for platform in self.platforms:
            options += ["--platform", platform]
        return [
            *options,
            "--python-version",
            self.python_version,
            "--implementation",
            "cp",
            "--only-binary=:all:",
        ]
