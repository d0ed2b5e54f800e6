"""The sandboxed rendering engine for email templates: compile once, render many.

    compiled = compile_message(subject=…, preheader=…, html=…, text=…)  # TemplateProblem
    message = compiled.render(context, seed=f"{contact_id}:{mailing_id}")  # per recipient

Templates are written by customers and must never reach server data, so:

- Jinja2's `ImmutableSandboxedEnvironment`, no loader, and an allow-list of template
  syntax checked at compile time: output, `if`, `for`, `with`, `{% set x = … %}`,
  expressions, filters and tests. `include`/`extends`/`import`/`macro`/`call`/
  `block`/`filter`/`autoescape`/`raw`, block `{% set %}`, function calls, names or
  attributes starting with `_`, and unknown filters are a `TemplateProblem` naming
  the line.
- The only data is the context dict (below). Attribute access reads dict keys only
  (`fields.items` is your custom field "items", never a dict method) and `loop.*`;
  any other attribute is empty. Output that isn't text, a number or a date (a
  method, a class, a dict…) prints as nothing, so no Python object can leak.
- Filters (allow-list): default/d, upper, lower, title, capitalize, trim, truncate,
  replace, round, int, float, length, first, last, join, escape/e, striptags,
  wordcount, date. `default` also replaces None and empty/blank strings (a contact
  without a first name gets the default). `date` takes a date, datetime or ISO
  string and a strftime format: `{{ fields.renewal|date("%d %B %Y") }}` (English
  month names); text it can't read is printed unchanged.
- Undefined variables print as nothing, also through attributes and filters
  (`{{ missing.x|upper }}` is "").
- Caps: MAX_TEMPLATE_CHARS per part (TemplateProblem); MAX_OUTPUT_CHARS of output,
  MAX_RENDER_SECONDS and MAX_LOOP_ITERATIONS per render (RenderLimitExceeded), plus
  guards on `*` and `**` so `'a' * 10**9` fails before allocating and `%`-formatting
  of strings is refused. A template that fails at render time for one recipient's
  data (comparing a text field with a number, say) raises TemplateProblem.
- HTML is autoescaped; subject, preheader and text are plain text (not escaped), and
  subject and preheader are folded to one line (no header injection through data).
- The HTML part is cleaned with `sanitize.sanitize_html` inside `compile_message`
  (so nothing unsanitized can reach a recipient), and Jinja block tags must sit
  between HTML elements (see sanitize.py for why).
- Spintax (`{a|b}`, see spintax.py) becomes Jinja branches at compile time; the
  choice per recipient comes from the `seed`.
- Empty `text` means "derive it from the HTML": the cleaned HTML *template* is
  converted with html2text once at compile time and compiled as a second, unescaped
  Jinja template — converting each rendered message would cost about a hundred times more.

Run `email_html.email_ready_html` on the HTML before compiling (once per mailing);
see email_html.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time
import traceback
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from jinja2 import ChainableUndefined, TemplateSyntaxError, Undefined, meta, nodes
from jinja2 import Template as JinjaTemplate
from jinja2.filters import FILTERS, do_replace
from jinja2.runtime import LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from jinja2.utils import pass_eval_context

from engagex.content import spintax
from engagex.content.email_html import html_to_text
from engagex.content.sanitize import protect_template, sanitize_html

MAX_TEMPLATE_CHARS = 512 * 1024
MAX_OUTPUT_CHARS = 2 * 1024 * 1024
MAX_RENDER_SECONDS = 2.0
MAX_LOOP_ITERATIONS = 10_000
_MAX_INT_BITS = 4096

BUILTIN_TAG_HELP = {
    "email": gettext_lazy("The contact's email address"),
    "first_name": gettext_lazy("First name"),
    "last_name": gettext_lazy("Last name"),
    "full_name": gettext_lazy("First and last name"),
    "fields": gettext_lazy("Custom fields, e.g. {{ fields.city }}"),
    "unsubscribe_url": gettext_lazy("Link that unsubscribes the contact"),
    "preferences_url": gettext_lazy("Link to the contact's subscription preferences"),
    "view_online_url": gettext_lazy("Link to this email in a browser"),
    "organization_name": gettext_lazy("Your organization's name"),
    "organization_address": gettext_lazy("Your organization's postal address"),
}
BUILTIN_TAGS: tuple[str, ...] = tuple(BUILTIN_TAG_HELP)

_PART_LABELS = {
    "subject": gettext_lazy("Subject"),
    "preheader": gettext_lazy("Preheader"),
    "html": gettext_lazy("HTML"),
    "text": gettext_lazy("Plain text"),
}


class TemplateProblem(ValueError):
    """A problem in a template that the person writing it can fix."""

    def __init__(self, part: str, line: int | None, detail: str) -> None:
        self.part = part
        self.line = line
        self.detail = detail
        label = str(_PART_LABELS[part])
        if line:
            self.message = _("%(part)s, line %(line)d: %(detail)s") % {
                "part": label,
                "line": line,
                "detail": detail,
            }
        else:
            self.message = f"{label}: {detail}"
        super().__init__(self.message)

    def __reduce__(self):
        return (type(self), (self.part, self.line, self.detail))


class RenderLimitExceeded(Exception):
    """Rendering hit a size, time or loop cap (the template, not the data, is at fault)."""


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    subject: str
    preheader: str
    html: str
    text: str


@dataclass(frozen=True)
class TemplateCheck:
    problems: list[TemplateProblem]
    unknown_tags: list[str]


# --- the sandbox -------------------------------------------------------------------


class _Blank(ChainableUndefined):
    """Undefined that prints nothing and survives attributes, filters and arithmetic."""

    __slots__ = ()

    def _blank(self, *args: object, **kwargs: object) -> _Blank:
        return self

    def _false(self, other: object) -> bool:
        return False

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _blank
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = _blank
    __pow__ = __rpow__ = __neg__ = __pos__ = __round__ = __call__ = _blank
    __lt__ = __le__ = __gt__ = __ge__ = _false

    def __int__(self) -> int:
        return 0

    def __float__(self) -> float:
        return 0.0


def _finalize(value: object) -> object:
    if type(value) is str or isinstance(value, str | int | float | Decimal):  # bool is an int
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(str(_finalize(item)) for item in value)
    return ""


class _Budget:
    __slots__ = ("deadline", "iterations", "size")

    def __init__(self) -> None:
        self.deadline = time.monotonic() + MAX_RENDER_SECONDS
        self.iterations = 0
        self.size = 0

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise RenderLimitExceeded(f"rendering took longer than {MAX_RENDER_SECONDS} s")


def _spin(seed: str, key: int, options: int) -> int:
    digest = hashlib.blake2b(f"{seed}\x1f{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % options


def _loop(budget: _Budget, iterable: Iterable) -> Iterator:
    for item in iterable:
        budget.iterations += 1
        if budget.iterations > MAX_LOOP_ITERATIONS:
            raise RenderLimitExceeded(f"more than {MAX_LOOP_ITERATIONS} loop iterations")
        if not budget.iterations % 64:
            budget.check_time()
        yield item


def _default(value: object, default_value: object = "", boolean: bool = False) -> object:
    if (
        isinstance(value, Undefined)
        or value is None
        or (isinstance(value, str) and not value.strip())
        or (boolean and not value)
    ):
        return default_value
    return value


def _date(value: object, format: str = "%Y-%m-%d") -> object:
    if isinstance(value, Undefined) or value is None:
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return value
    if not isinstance(value, dt.date):
        return value
    try:
        return value.strftime(str(format)[:200])
    except ValueError:
        return value.isoformat()


@pass_eval_context
def _replace(eval_ctx, value: object, old: object, new: object, count: int | None = None):
    text, old_text, new_text = str(value), str(old), str(new)
    occurrences = text.count(old_text) if old_text else len(text) + 1
    if isinstance(count, int) and count >= 0:
        occurrences = min(occurrences, count)
    growth = occurrences * max(len(new_text) - len(old_text), 0)
    if len(text) + growth > MAX_OUTPUT_CHARS:
        raise RenderLimitExceeded("replace() would produce too much text")
    return do_replace(eval_ctx, value, old, new, count)


_FILTERS = {
    name: FILTERS[name]
    for name in (
        "upper", "lower", "title", "capitalize", "trim", "truncate", "round", "int",
        "float", "length", "first", "last", "join", "escape", "e", "striptags", "wordcount",
    )
} | {"default": _default, "d": _default, "replace": _replace, "date": _date}  # fmt: skip
_INTERNAL_CALLS = (_spin, _loop)
_GLOBALS = {"__spin": _spin, "__loop": _loop}


class _EmailEnvironment(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self, *, autoescape: bool) -> None:
        super().__init__(
            autoescape=autoescape,
            undefined=_Blank,
            finalize=_finalize,
            keep_trailing_newline=True,
            auto_reload=False,
        )
        self.globals.clear()
        self.globals.update(_GLOBALS)
        self.filters = dict(_FILTERS)

    def getattr(self, obj, attribute):
        if isinstance(obj, Mapping):
            try:
                return obj[attribute]
            except (KeyError, TypeError):
                return self.undefined(obj=obj, name=attribute)
        if isinstance(obj, LoopContext) and not attribute.startswith("_"):
            return super().getattr(obj, attribute)
        return self.undefined(obj=obj, name=attribute)

    def getitem(self, obj, argument):
        if isinstance(obj, Mapping | str | list | tuple):
            try:
                return obj[argument]
            except (LookupError, TypeError, ValueError):
                pass
        elif isinstance(obj, LoopContext) and isinstance(argument, str):
            return self.getattr(obj, argument)
        return self.undefined(obj=obj, name=argument)

    def call(__self, __context, __obj, *args, **kwargs):
        if any(__obj is allowed for allowed in _INTERNAL_CALLS):
            return __context.call(__obj, *args, **kwargs)
        raise SecurityError("calling functions is not available in email templates")

    def call_binop(self, context, operator, left, right):
        _check_binop(operator, left, right)
        return super().call_binop(context, operator, left, right)


def _check_binop(operator: str, left: object, right: object) -> None:
    """Refuse what would allocate or compute without bound before it happens."""
    if operator == "%" and isinstance(left, str):
        raise SecurityError("%-formatting of text is not available in email templates")
    ints = isinstance(left, int) and isinstance(right, int)
    if operator == "*":
        for sequence, times in ((left, right), (right, left)):
            sized = isinstance(sequence, str | list | tuple) and isinstance(times, int)
            if sized and len(sequence) * times > MAX_OUTPUT_CHARS:
                raise RenderLimitExceeded("repeating text would produce too much output")
        if ints and left.bit_length() + right.bit_length() > _MAX_INT_BITS:
            raise RenderLimitExceeded("number too large")
    if operator == "**" and ints and abs(left) > 1 and right * left.bit_length() > _MAX_INT_BITS:
        raise RenderLimitExceeded("number too large")


_HTML_ENV = _EmailEnvironment(autoescape=True)
_TEXT_ENV = _EmailEnvironment(autoescape=False)

# --- compile-time checks --------------------------------------------------------------

_ALLOWED_NODES = frozenset(
    {
        nodes.Template, nodes.Output, nodes.TemplateData, nodes.If, nodes.For, nodes.With,
        nodes.Assign, nodes.Name, nodes.Const, nodes.Getattr, nodes.Getitem, nodes.Slice,
        nodes.Filter, nodes.Test, nodes.CondExpr, nodes.Compare, nodes.Operand, nodes.And,
        nodes.Or, nodes.Not, nodes.Neg, nodes.Pos, nodes.Add, nodes.Sub, nodes.Mul,
        nodes.Div, nodes.FloorDiv, nodes.Mod, nodes.Pow, nodes.Concat, nodes.List,
        nodes.Tuple, nodes.Dict, nodes.Pair, nodes.Keyword,
    }
)  # fmt: skip
_NODE_NAMES = {
    nodes.Include: "{% include %}",
    nodes.Extends: "{% extends %}",
    nodes.Import: "{% import %}",
    nodes.FromImport: "{% from … import %}",
    nodes.Macro: "{% macro %}",
    nodes.CallBlock: "{% call %}",
    nodes.Block: "{% block %}",
    nodes.FilterBlock: "{% filter %}",
    nodes.AssignBlock: "{% set %}…{% endset %}",
    nodes.Scope: "{% autoescape %}",
    nodes.ScopedEvalContextModifier: "{% autoescape %}",
    nodes.EvalContextModifier: "{% autoescape %}",
    nodes.Call: "calling functions, as in name(…),",
}
_RESERVED_NAMES = frozenset({"self", "caller", "varargs", "kwargs"})
# Names the sender itself fills per recipient (tracking tokens, `engagex.tracking.links`)
# in the sending form of a message; still reserved in every template people write.
SENDER_CLICKS, SENDER_OPEN = "__clicks", "__open"
_SENDER_NAMES = frozenset({SENDER_CLICKS, SENDER_OPEN})


def _parse(env: _EmailEnvironment, part: str, source: str) -> nodes.Template:
    try:
        return env.parse(source)
    except TemplateSyntaxError as error:
        raise TemplateProblem(part, error.lineno, _explain(error.message or "")) from None


def _explain(message: str) -> str:
    if "unexpected end of template" in message.lower():
        return message + " " + _("— an {% if %} or {% for %} is not closed.")
    if "Encountered unknown tag" in message:
        return message + " " + _("— check the spelling and that blocks are opened first.")
    return message


def _check_nodes(tree: nodes.Template, part: str, allowed: frozenset = frozenset()) -> None:
    for node in tree.find_all(nodes.Node):
        if isinstance(node, nodes.Name) and node.name in allowed:
            continue
        if detail := _node_problem(node):
            line = node.lineno or next((n.lineno for n in node.find_all(nodes.Node)), None)
            raise TemplateProblem(part, line, detail)


def _node_problem(node: nodes.Node) -> str | None:
    if type(node) not in _ALLOWED_NODES:
        what = _NODE_NAMES.get(type(node), type(node).__name__)
        return _("%(what)s is not available in email templates.") % {"what": what}
    if isinstance(node, nodes.Name) and (node.name[:1] == "_" or node.name in _RESERVED_NAMES):
        return _("the name “%(name)s” is reserved.") % {"name": node.name}
    if isinstance(node, nodes.Getattr | nodes.Getitem):
        key = node.attr if isinstance(node, nodes.Getattr) else getattr(node.arg, "value", None)
        if isinstance(key, str) and key[:1] == "_":
            return _("attributes starting with “_” are not available.")
    if isinstance(node, nodes.Filter) and node.name not in _FILTERS:
        return _("there is no filter “%(name)s”; available filters: %(names)s.") % {
            "name": node.name,
            "names": ", ".join(sorted(_FILTERS)),
        }
    if isinstance(node, nodes.Test) and node.name not in _HTML_ENV.tests:
        return _("there is no test “%(name)s”.") % {"name": node.name}
    if isinstance(node, nodes.Mod) and isinstance(getattr(node.left, "value", None), str):
        return _("%-formatting of text is not available; use filters instead.")
    return None


def _check_spans(scan: spintax.Scan, source: str, part: str) -> None:
    for (start, end), context in zip(scan.spans, scan.contexts, strict=True):
        tag = source[start:end]
        line = spintax.line_of(source, start)
        if spintax.RAW_BEGIN.match(tag):
            detail = _("{% raw %} is not available; write a literal brace as {{ '{' }}.")
            raise TemplateProblem(part, line, detail)
        if tag.startswith("{%") and context != spintax.DATA:
            detail = _(
                "“%(tag)s” can't be used inside an HTML tag, attribute, <style> or comment"
                " — put it between elements."
            ) % {"tag": tag if len(tag) <= 40 else tag[:37] + "…"}
            raise TemplateProblem(part, line, detail)


def _check_sanitized(html: str, expected: list[str]) -> None:
    """After cleaning, the template tags must be a subset of the ones we protected, in
    order (dropped ones went with dropped markup), and block tags still between
    elements. Anything else would be markup the cleaner didn't see as such."""
    scan = spintax.scan_template(html, html=True)
    remaining = iter(expected)
    for (start, end), context in zip(scan.spans, scan.contexts, strict=True):
        tag = html[start:end]
        if not any(tag == original for original in remaining) or (
            tag.startswith("{%") and context != spintax.DATA
        ):
            detail = _("the HTML can't be used safely around “%(tag)s”; please simplify it.")
            raise TemplateProblem("html", None, detail % {"tag": tag[:40]})


# --- compiling -------------------------------------------------------------------------


def _build(env: _EmailEnvironment, part: str, source: str) -> JinjaTemplate | str:
    """Compile our (checked, spintax-free) Jinja source; static text stays a string."""
    if not spintax.jinja_tag_spans(source):
        return source
    try:
        tree = env.parse(source)
    except TemplateSyntaxError as error:
        detail = error.message or ""
        hint = _("— check that spintax options don't cut through {% if %} or {% for %} blocks.")
        raise TemplateProblem(part, error.lineno, f"{detail} {hint}") from None
    for loop in tree.find_all(nodes.For):
        guarded = nodes.Call(
            nodes.Name("__loop", "load"),
            [nodes.Name("__budget", "load"), loop.iter],
            [],
            None,
            None,
        )
        loop.iter = guarded.set_lineno(loop.lineno).set_environment(env)
    try:
        return env.from_string(tree)
    except TemplateSyntaxError as error:
        raise TemplateProblem(part, error.lineno, error.message or "") from None


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_STYLE_ELEMENT = re.compile(r"<style\b.*?</style\s*>", re.IGNORECASE | re.DOTALL)


def _entities(match: re.Match) -> str:
    return "".join(f"&#{ord(char)};" for char in match.group())


def ascii_html(source: str) -> str:
    """The HTML template with its non-ASCII text written as character references
    (`—` → `&#8212;`): the same page in every client, but ASCII, so a message
    sends as 7bit instead of base64 (a third smaller, and no encoding per recipient).

    Left alone: Jinja tags (their literals are output, then escaped) and `<style>`
    elements (CSS does not decode character references)."""
    if source.isascii():
        return source
    kept = sorted(
        [*spintax.jinja_tag_spans(source), *(m.span() for m in _STYLE_ELEMENT.finditer(source))]
    )
    out, position = [], 0
    for start, end in kept:
        if start < position:  # a tag inside a style element: already kept
            position = max(position, end)
            continue
        out.append(_NON_ASCII.sub(_entities, source[position:start]))
        out.append(source[start:end])
        position = end
    out.append(_NON_ASCII.sub(_entities, source[position:]))
    return "".join(out)


# SMTP allows lines of at most 998 octets; an HTML part with a longer line must go
# quoted-printable, which costs more than building the rest of the message. Break
# long lines below that, with room for merge values.
LONG_LINE = 800
_TAG = re.compile(r"<[A-Za-z][^<>]*>")


def wrap_long_lines(source: str, limit: int = LONG_LINE) -> str:
    """The HTML template with lines over `limit` broken where a line break means the
    same as a space: whitespace between the attributes of a tag (minified builder
    output is one long line of tags). Text content, attribute values, Jinja tags and
    `<style>` elements are left alone; a line with no such place stays long."""
    if max(map(len, source.split("\n"))) <= limit:
        return source
    return "\n".join(
        _wrap_line(line, limit) if len(line) > limit else line for line in source.split("\n")
    )


def _wrap_line(line: str, limit: int) -> str:
    chars = list(line)
    start = candidate = 0
    for position in _tag_whitespace(line):
        if position - start > limit and candidate > start:
            chars[candidate] = "\n"
            start = candidate + 1
        candidate = position
    if len(line) - start > limit and candidate > start:
        chars[candidate] = "\n"
    return "".join(chars)


def _tag_whitespace(line: str):
    """Positions of whitespace inside tags, outside quoted attribute values and Jinja
    tags (those are masked first, so quotes or `>` inside them don't mislead us)."""
    masked = line
    for start, end in spintax.jinja_tag_spans(line):
        masked = masked[:start] + "x" * (end - start) + masked[end:]
    styles = [match.span() for match in _STYLE_ELEMENT.finditer(masked)]
    for match in _TAG.finditer(masked):
        tag = match.group()
        if "{" in tag or "}" in tag or any(a < match.start() < b for a, b in styles):
            continue  # part of a Jinja tag that spans lines, or CSS
        quote = ""
        for offset, char in enumerate(tag):
            if quote:
                quote = "" if char == quote else quote
            elif char in "\"'":
                quote = char
            elif char in " \t" and not tag[offset - 1].isspace():
                yield match.start() + offset


def _prepare(part: str, source: str, *, html: bool, sending: bool = False) -> str:
    """Check a part and turn it into the Jinja source we compile (cleaned if HTML)."""
    if len(source) > MAX_TEMPLATE_CHARS:
        detail = _("the template is too large (%(size)d KB; the limit is %(limit)d KB).")
        limit = MAX_TEMPLATE_CHARS // 1024
        raise TemplateProblem(part, None, detail % {"size": len(source) // 1024, "limit": limit})
    env = _HTML_ENV if html else _TEXT_ENV
    _check_nodes(_parse(env, part, source), part, _SENDER_NAMES if sending else frozenset())
    scan = spintax.scan_template(source, html=html)
    _check_spans(scan, source, part)
    try:
        groups = spintax.find_groups(source, scan)
    except spintax.SpintaxError as error:
        raise TemplateProblem(part, error.line, error.message) from None
    jinja_source = spintax.to_jinja(source, groups)
    if html:
        expected = [jinja_source[start:end] for start, end in spintax.jinja_tag_spans(jinja_source)]
        jinja_source = sanitize_html(jinja_source)
        _check_sanitized(jinja_source, expected)
    return jinja_source


def _text_from_html(html_source: str) -> str:
    """The plain-text template derived from the (cleaned) HTML template."""
    protected = protect_template(html_source, comment_placeholders=False)
    text = html_to_text(protected.text)
    # Every template tag is a placeholder here, so any brace left is text (perhaps
    # decoded from `&#123;`) and must stay literal once the tags are put back.
    return protected.restore(text.replace("{", "{{ '{' }}"))


class CompiledMessage:
    """A message's four parts, parsed and compiled once; `render` only runs them."""

    __slots__ = ("_html", "_preheader", "_subject", "_text")

    def __init__(self, subject, preheader, html, text) -> None:
        self._subject, self._preheader, self._html, self._text = subject, preheader, html, text

    def render(self, context: Mapping[str, object], *, seed: str) -> RenderedMessage:
        budget = _Budget()
        variables = {**context, **_GLOBALS, "__seed": str(seed), "__budget": budget}
        return RenderedMessage(
            subject=" ".join(_run("subject", self._subject, variables, budget).split()),
            preheader=" ".join(_run("preheader", self._preheader, variables, budget).split()),
            html=_run("html", self._html, variables, budget),
            text=_run("text", self._text, variables, budget),
        )


def _run(part: str, template: JinjaTemplate | str, variables: dict, budget: _Budget) -> str:
    if isinstance(template, str):
        return template
    chunks = []
    size = budget.size
    # What Template.generate() does, minus a copy of the variables per part (they
    # already hold our globals) and a generator layer per chunk.
    context = template.new_context(variables, shared=True)
    try:
        for chunk in template.root_render_func(context):
            size += len(chunk)
            if size > MAX_OUTPUT_CHARS:
                raise RenderLimitExceeded(f"the message is larger than {MAX_OUTPUT_CHARS} chars")
            if time.monotonic() > budget.deadline:
                budget.check_time()
            chunks.append(chunk)
    except RenderLimitExceeded:
        raise
    except Exception as error:
        raise _runtime_problem(part, template, error) from error
    budget.size = size
    return "".join(chunks)


def _runtime_problem(part: str, template: JinjaTemplate, error: Exception) -> TemplateProblem:
    line = None
    try:
        template.environment.handle_exception()  # re-raises with template line numbers
    except Exception as rewritten:
        for frame, lineno in traceback.walk_tb(rewritten.__traceback__):
            if frame.f_code.co_filename == "<template>":
                line = lineno
    detail = _("this message could not be rendered for this recipient: %(error)s")
    return TemplateProblem(part, line, detail % {"error": error})


def compile_message(
    *, subject: str, preheader: str = "", html: str, text: str = "", ascii: bool = False
) -> CompiledMessage:
    """Check, clean and compile a message; raises TemplateProblem (first one found).

    `ascii`: for sending — the HTML's own non-ASCII text as character references
    (`ascii_html`) and its long lines broken (`wrap_long_lines`), so the part can go
    7bit; previews keep the characters as written."""
    compiled_subject = _build(_TEXT_ENV, "subject", _prepare("subject", subject, html=False))
    compiled_preheader = _build(
        _TEXT_ENV, "preheader", _prepare("preheader", preheader, html=False)
    )
    html_source = _prepare("html", html, html=True, sending=ascii)
    # For sending: 7bit where the recipient's data allows.
    sent_html = wrap_long_lines(ascii_html(html_source)) if ascii else html_source
    compiled_html = _build(_HTML_ENV, "html", sent_html)
    if text:
        compiled_text = _build(_TEXT_ENV, "text", _prepare("text", text, html=False))
    else:
        compiled_text = _build(_TEXT_ENV, "text", _text_from_html(html_source))
    return CompiledMessage(compiled_subject, compiled_preheader, compiled_html, compiled_text)


def check_template(
    *,
    subject: str,
    preheader: str = "",
    html: str,
    text: str = "",
    known_fields: Iterable[str] = (),
) -> TemplateCheck:
    """Every problem (at most one per part) and the merge tags nobody will fill."""
    problems: list[TemplateProblem] = []
    unknown: list[str] = []
    known = set(known_fields)
    parts = [("subject", subject, False), ("preheader", preheader, False), ("html", html, True)]
    if text:
        parts.append(("text", text, False))
    for part, source, is_html in parts:
        env = _HTML_ENV if is_html else _TEXT_ENV
        try:
            jinja_source = _prepare(part, source, html=is_html)
            _build(env, part, jinja_source)
            if is_html and not text:
                _build(_TEXT_ENV, "text", _text_from_html(jinja_source))
        except TemplateProblem as problem:
            problems.append(problem)
        if len(source) <= MAX_TEMPLATE_CHARS:
            try:
                tree = env.parse(source)
            except TemplateSyntaxError:
                continue
            for tag in _unknown_tags(tree, known):
                if tag not in unknown:
                    unknown.append(tag)
    return TemplateCheck(problems=problems, unknown_tags=unknown)


def _unknown_tags(tree: nodes.Template, known_fields: set[str]) -> list[str]:
    undeclared = meta.find_undeclared_variables(tree)
    found: list[str] = []
    for node in tree.find_all((nodes.Name, nodes.Getattr, nodes.Getitem)):
        if isinstance(node, nodes.Name):
            if node.name in undeclared and node.name not in BUILTIN_TAG_HELP:
                found.append(node.name)
            continue
        target = node.node
        if not (isinstance(target, nodes.Name) and target.name == "fields"):
            continue
        key = node.attr if isinstance(node, nodes.Getattr) else getattr(node.arg, "value", None)
        if isinstance(key, str) and key not in known_fields:
            found.append(f"fields.{key}")
    return list(dict.fromkeys(found))
