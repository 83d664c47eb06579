"""Sign-offs through an approval engine, between plugins that do not import each other.

A plugin with something to sign off (the portal's articles) calls :func:`start`; the first
enabled plugin implementing ``unionhub_approval_start`` (an approval engine such as the OA
plugin) takes the request and returns its reference, or nobody does and :func:`start` returns
``None`` — the asking plugin then applies its own review. When the engine's request ends it
calls :func:`decided`, which hands the :class:`~unionhub.contrib.ApprovalDecision` to every
enabled plugin's ``unionhub_approval_decided``; the plugin owning ``decision.kind`` acts.

Both run in the caller's transaction (``unionhub.db.session()``): implementations write and the
caller commits, so a request and the state that waits for it commit or roll back together.
Implementations are called in the plugins' load order (the core first), not in pluggy's, and
those of a plugin disabled at run time are skipped.
"""

from __future__ import annotations

import re

from unionhub.contrib import ApprovalDecision, ApprovalRequest
from unionhub.plugins.calls import enabled_impls as _impls

START = "unionhub_approval_start"
DECIDED = "unionhub_approval_decided"
MAX_REF = 64
KIND_RE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_.]*$")


class ApprovalError(ValueError):
    """A malformed request or decision, or an engine that answered out of contract."""


def _check_kind(kind: str) -> None:
    if not KIND_RE.match(kind or ""):
        raise ApprovalError(f"approval kind {kind!r} must be '<plugin>.<thing>'")


def owner(kind: str) -> str:
    """The plugin that owns a kind (``"portal.article"`` → ``"portal"``)."""
    return kind.split(".", 1)[0]


def start(request: ApprovalRequest) -> str | None:
    """Ask the first enabled approval engine to sign ``request`` off; its reference, or
    ``None`` when no engine is enabled (or none takes this kind)."""
    if not isinstance(request, ApprovalRequest):
        raise TypeError("start() takes an ApprovalRequest")
    _check_kind(request.kind)
    kwargs = {"request": request}
    for impl in _impls(START):
        ref = impl.function(*[kwargs[a] for a in impl.argnames])
        if ref is None:
            continue
        if not isinstance(ref, str) or not ref.strip() or len(ref) > MAX_REF:
            raise ApprovalError(
                f"插件 {impl.plugin_name}: {START} must return a reference of 1–{MAX_REF} "
                f"characters or None, not {ref!r}")
        return ref
    return None


def decided(decision: ApprovalDecision) -> bool:
    """Report that a request ended. Returns whether the plugin owning ``decision.kind`` is
    enabled and listens (when False, nobody acted: the engine should keep the decision and
    report it again later)."""
    if not isinstance(decision, ApprovalDecision):
        raise TypeError("decided() takes an ApprovalDecision")
    _check_kind(decision.kind)
    if not decision.ref:
        raise ApprovalError("a decision needs the engine's reference")
    delivered = False
    kwargs = {"decision": decision}
    for impl in _impls(DECIDED):
        impl.function(*[kwargs[a] for a in impl.argnames])
        delivered = delivered or impl.plugin_name == owner(decision.kind)
    return delivered


__all__ = ["ApprovalDecision", "ApprovalError", "ApprovalRequest", "decided", "owner", "start"]
