"""Run a feature's cleanup when its sandbox stops (worker processes, temporary folders).

`SandboxContext` has no stop hook yet, but `Sandbox.stop()` always stops the
context's scheduler after the server has stopped serving: the hooks run
right after that. They also run at interpreter exit if the sandbox was never
stopped (an in-process demo that crashed), so no process or folder is left.
If the context grows a real `on_stop`, only this module changes.
"""

from __future__ import annotations

import atexit
import logging
from collections.abc import Callable

from failover_cli.sandbox.context import SandboxContext

log = logging.getLogger(__name__)

_HOOKS_ATTRIBUTE = "_failover_stop_hooks"
Hook = Callable[[], object]


def on_stop(context: SandboxContext, callback: Hook) -> None:
    """Call `callback` once when the sandbox owning `context` stops (or the process exits)."""
    scheduler = context.scheduler
    hooks: list[Hook] | None = getattr(scheduler, _HOOKS_ATTRIBUTE, None)
    if hooks is None:
        hooks = []
        stop_scheduler = scheduler.stop

        def stop() -> None:
            stop_scheduler()
            _run(hooks)

        setattr(scheduler, _HOOKS_ATTRIBUTE, hooks)
        setattr(scheduler, "stop", stop)  # noqa: B010  (mypy refuses assigning to a method)
    hooks.append(callback)
    atexit.register(callback)


def _run(hooks: list[Hook]) -> None:
    while hooks:
        callback = hooks.pop()
        atexit.unregister(callback)
        try:
            callback()
        except Exception:  # one failing cleanup must not skip the others
            log.exception("sandbox stop hook failed")
