"""How a refused write is answered, one way for all: invalid input (``ValidationError``, 400), a
save that came too late (``Conflict``: a newer version, or a value another writer took at the same
moment, 409). Nothing of the request has been written (the transaction is rolled back).

- JSON callers (/api/, /ogc, or ``Accept: application/json``) get ``{"errors": [{field, message,
  expected}]}`` with 400 or 409.
- A page gets the form it came from again: a POST view marked ``@form_page(render, name)`` is
  answered by ``render(**view_args)``, rendered with ``g.form``: what the user typed and each
  message beside its field (``FormState``); a conflict adds the record's newer values. Other pages get the list of
  problems with a link back that keeps what was typed (the browser's own back).

Write views raise; they never catch a refusal themselves. (A read that shows its own form's
problems on its page, like the land calculator, is not a refused write.)
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import Flask, g, jsonify, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from registry.core.conflicts import Conflict
from registry.core.validation import Problem, ValidationError

from registry.core.authz import Forbidden
from registry.storage.db import release

from . import errors
from .db import get_session


@dataclass
class FormState:
    """A form as the user last submitted it: their values, and what was refused, by input name."""

    name: str = ""
    values: MultiDict = field(default_factory=MultiDict)
    problems: list[Problem] = field(default_factory=list)
    conflict: Conflict | None = None
    aliases: dict[str, str] = field(default_factory=dict)  # a problem's field → the input it belongs to

    def value(self, name: str, default=""):
        """What the user typed into ``name`` (or ``default`` on a form not submitted)."""
        return self.values.get(name, default) if self.name else default

    def values_of(self, name: str) -> list[str]:
        return self.values.getlist(name)

    def version(self, current):
        """The record version the form's next save is based on: the one the user saw when they
        filled it in, unless they were just shown newer values (a conflict), which they now see."""
        if self.name and self.conflict is None and self.values.get("version"):
            return self.values.get("version")
        return current

    def input_of(self, problem: Problem) -> str:
        return self.aliases.get(problem.field) or problem.field.rsplit(".", 1)[-1]

    def problems_for(self, name: str) -> list[Problem]:
        """The problems to show beside input ``name``."""
        return [p for p in self.problems if self.input_of(p) == name]

    def unplaced(self, *names: str) -> list[Problem]:
        """The problems that belong to none of the inputs ``names`` (shown above the form)."""
        return [p for p in self.problems if self.input_of(p) not in names]


_EMPTY = FormState()


def form_state(name: str) -> FormState:
    """The submitted state of form ``name`` on this page (empty unless it was just refused)."""
    state = g.get("form")
    return state if state is not None and state.name == name else _EMPTY


def form_page(render, name: str, **aliases: str):
    """Marks a POST view whose refusals re-render its form's page: ``render(**view_args)`` returns
    that page, where the form is ``form_state(name)`` (``name`` may use the view's arguments, as in
    "renew-{lease_id}" for a form repeated per lease); ``aliases`` map a problem's field
    (``Lease.end_date``) to an input (``free_from``) where their names differ."""
    def decorate(view):
        view.form_page = (render, name, aliases)  # carried out by functools.wraps of outer decorators
        return view
    return decorate


def answer(exc: ValidationError | Conflict):
    """The response to a refused write (see the module docstring)."""
    release(get_session())  # nothing of the request stays, and the page below reads fresh data
    conflict = exc if isinstance(exc, Conflict) else None
    status = 409 if conflict else 400
    problems = exc.problems if isinstance(exc, ValidationError) else [
        Problem(exc.field or exc.entity or "", exc.message)]
    if errors.wants_json():
        return jsonify({"errors": [{"field": p.field, "message": p.message, "expected": p.expected}
                                   for p in problems]}), status
    view = request.endpoint and _view(request.endpoint)
    page = getattr(view, "form_page", None)
    if request.method == "POST" and page is not None:
        render, name, aliases = page
        args = request.view_args or {}
        g.form = FormState(name.format(**args), request.form.copy(), problems, conflict, aliases)
        try:
            return render(**args), status
        except (LookupError, Forbidden):  # the form's page is gone (or not theirs): say what was refused
            release(get_session())
            g.form = None
    if conflict is not None:
        return render_template("conflict.html", exc=conflict), status
    return render_template("form_error.html", problems=problems, back=request.referrer or url_for("main.index")), status


def _view(endpoint: str):
    from flask import current_app
    return current_app.view_functions.get(endpoint)


def init_app(app: Flask) -> None:
    app.register_error_handler(ValidationError, answer)
    app.register_error_handler(Conflict, answer)
    app.jinja_env.globals["form_state"] = form_state
