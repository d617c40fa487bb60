"""A canonical key for a news link, so the same article reached by different URLs is seen once.

Two URLs name "the same article" when they differ only in ways that never change which story a
reader gets: scheme, letter case of the host, default port, credentials, fragment, trailing
slashes, a www/mobile/AMP host prefix, tracking or AMP query parameters, the order of the query
parameters, how percent-escapes are spelled, or the AMP wrapping of the page (AMP caches and
viewers, an ``/amp/`` path segment, an ``.amp`` suffix). Anything else (a different host, path,
path letter case, or other query parameter) is a different article, even when a person would
guess otherwise: a false "duplicate" hides a story from the desk, a missed one only shows it twice.

Decisions:

* The key is an ``https://`` URL for every http(s) input: ``https://host[:port]path[?query]``.
  Anything that is not an http(s) URL with a valid host gives None; nothing raises.
* Host: lower-cased (IDNA hosts are not punycoded), a trailing dot dropped, and one leftmost
  ``www.``, ``m.``, ``mobile.`` or ``amp.`` label dropped when a dot remains (``m.co`` stays).
  Other subdomains are kept: ``news.bbc.co.uk`` and ``bbc.co.uk`` differ.
* Port: ``:80`` and ``:443`` dropped under either scheme (the key is always https); others kept.
* Path: case kept; trailing slashes dropped, so the root is the empty path; repeated inner
  slashes and dot segments are left alone.
* Percent-escapes in path and query: hex digits upper-cased, escapes of unreserved characters
  (letters, digits, ``-._~``) decoded; nothing else is unquoted.
* AMP: Google AMP Cache URLs (``*.cdn.ampproject.org`` with ``/c/``, ``/v/``, ``/i/`` or ``/wp/``,
  each with or without ``s/``) and Google's viewer (``google.<tld>/amp/[s/]``) become the URL they
  wrap, keeping the outer query. In the path every segment that is exactly ``amp`` is removed
  (``/amp-stories/`` is not such a segment), a final ``.amp`` suffix is removed and ``.amp.html``
  becomes ``.html``, so ``/tech/x.amp`` is ``/tech/x`` and ``/a/b.amp.html`` is ``/a/b.html``.
  A trailing ``.html`` is otherwise kept: the key stays a URL of the real page.
* Query: parameters are split on ``&`` and kept as written (``a`` and ``a=`` stay distinct);
  names in TRACKING_PARAMETERS or starting with TRACKING_PREFIXES, names in AMP_PARAMETERS, and
  name/value pairs in AMP_PARAMETER_VALUES are dropped, all compared case-insensitively. The rest
  are sorted by name, then value, and ``?`` is dropped when nothing remains.
"""

import re
import string

TRACKING_PARAMETERS: frozenset[str] = frozenset(
    {
        # Ad platforms and analytics click ids.
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "yclid",
        "igshid",
        "_ga",
        "mkt_tok",
        "s_cid",
        "spm",
        # Mailchimp.
        "mc_cid",
        "mc_eid",
        # Publishers' own campaign and share tags.
        "ocid",
        "cmpid",
        "cmp",
        "ito",
        "ref",
        "ref_src",
        "smid",
        "smtyp",
        "trk",
        "share",
        "sr_share",
        "taid",
        "xtor",
        "__twitter_impression",
        # BBC's RSS tags, e.g. ?at_medium=RSS&at_campaign=KARANGA.
        "at_medium",
        "at_campaign",
        "at_custom1",
        "at_custom2",
        "at_custom3",
        "at_custom4",
        # Yahoo's consent redirect.
        "guccounter",
        "guce_referrer",
        "guce_referrer_sig",
    }
)
"""Query parameter names dropped from every URL (lower case; matched case-insensitively)."""

TRACKING_PREFIXES: tuple[str, ...] = ("utm_", "itm_")
"""Query parameter name prefixes dropped from every URL (lower case; matched case-insensitively)."""

AMP_PARAMETERS: frozenset[str] = frozenset({"amp_js_v", "amp_gsa", "usqp"})
"""Query parameters an AMP viewer adds, dropped whatever their value."""

AMP_PARAMETER_VALUES: frozenset[tuple[str, str]] = frozenset(
    {
        ("amp", ""),
        ("amp", "1"),
        ("amp", "true"),
        ("_amp", "true"),
        ("outputtype", "amp"),
        ("output", "amp"),
        ("view", "amp"),
    }
)
"""Query (name, value) pairs that only ask for the AMP page, dropped (lower case; ``amp`` alone
counts as ``amp=``)."""

_HTTP_URL = re.compile(
    r"(?i:https?)://"
    r"(?:[^/?#]*@)?"  # userinfo, dropped
    r"((?:[\w-]+\.)*[\w-]+|\[[0-9A-Fa-f:.]+\])\.?"  # host name or [IPv6], without a final dot
    r"(?::([0-9]{0,5}))?"
    r"(/[^?#]*)?"
    r"(?:\?([^#]*))?"
    r"(?:#.*)?",
    re.DOTALL,
)
_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_AMP_PATH_MARKER = re.compile(r"/amp(?=/|\Z)|\.amp(?=(?:\.html)?/*\Z)")
_AMP_CACHE_HOST = "cdn.ampproject.org"
_AMP_CACHE_SUBDOMAIN = "." + _AMP_CACHE_HOST
_AMP_CACHE_PATH_PREFIX = re.compile(r"/(?:c|v|i|wp)/(?:s/)?(?=[^/])")
_GOOGLE_VIEWER_HOST = re.compile(r"(?:www\.)?google(?:\.com?)?\.[a-z]{2,3}")
_GOOGLE_VIEWER_PATH_PREFIX = re.compile(r"/amp/(?:s/)?(?=[^/])")
_DROPPED_HOST_LABELS = frozenset({"www", "m", "mobile", "amp"})
_DROPPED_PARAMETERS = TRACKING_PARAMETERS | AMP_PARAMETERS
_AMP_VALUE_PARAMETER_NAMES = frozenset(name for name, _ in AMP_PARAMETER_VALUES)
_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")


def _normal_spelling(escape: str) -> str:
    character = chr(int(escape[1:], 16))
    return character if character in _UNRESERVED else escape.upper()


_NORMAL_ESCAPES = {
    escape: _normal_spelling(escape)
    for escape in (f"%{high}{low}" for high in string.hexdigits for low in string.hexdigits)
}


def canonical_url(url: str) -> str | None:
    """The canonical key of an http(s) URL (see the module docstring), or None for anything else."""
    if not isinstance(url, str):
        return None
    parts = _split(url.strip())
    if parts is None:
        return None
    while (wrapped := _url_inside_amp_viewer(*parts)) and (unwrapped := _split(wrapped)):
        parts = unwrapped
    host, port, path, query = parts

    first_label, _, rest = host.partition(".")
    if first_label in _DROPPED_HOST_LABELS and "." in rest:
        host = rest
    port = "" if not port or int(port) in (80, 443) else f":{int(port)}"
    if "%" in path:
        path = _normalise_escapes(path)
    if "amp" in path:
        path = _AMP_PATH_MARKER.sub("", path)
    path = path.rstrip("/")
    if query:
        query = _canonical_query(query)
    if query:
        return f"https://{host}{port}{path}?{query}"
    return f"https://{host}{port}{path}"


def _split(url: str) -> tuple[str, str | None, str, str | None] | None:
    """(lower-case host, port, path, query) of an http(s) URL, or None if it is not one."""
    match = _HTTP_URL.fullmatch(url)
    if match is None:
        return None
    host, port, path, query = match.groups()
    return host.lower(), port, path or "", query


def _url_inside_amp_viewer(host: str, _port: str | None, path: str, query: str | None) -> str | None:
    """The URL that an AMP cache or viewer URL wraps, with the outer query; None for other URLs."""
    if host == _AMP_CACHE_HOST or host.endswith(_AMP_CACHE_SUBDOMAIN):
        prefix = _AMP_CACHE_PATH_PREFIX.match(path)
    elif "google." in host and _GOOGLE_VIEWER_HOST.fullmatch(host):
        prefix = _GOOGLE_VIEWER_PATH_PREFIX.match(path)
    else:
        return None
    if prefix is None:
        return None
    wrapped = "https://" + path[prefix.end() :]
    return wrapped if query is None else f"{wrapped}?{query}"


def _normalise_escapes(text: str) -> str:
    return _PERCENT_ESCAPE.sub(_normal_escape, text)


def _normal_escape(escape: re.Match[str]) -> str:
    return _NORMAL_ESCAPES[escape[0]]


def _canonical_query(query: str) -> str:
    if "%" in query:
        query = _normalise_escapes(query)
    kept = []
    for parameter in query.split("&"):
        if not parameter:
            continue
        name, equals, value = parameter.partition("=")
        lowered = name.lower()
        if lowered in _DROPPED_PARAMETERS or lowered.startswith(TRACKING_PREFIXES):
            continue
        if lowered in _AMP_VALUE_PARAMETER_NAMES and (lowered, value.lower()) in AMP_PARAMETER_VALUES:
            continue
        kept.append((name, equals, value))
    # Tuples sort by name, then a bare name before "name=...", then by value.
    kept.sort()
    return "&".join([name + equals + value for name, equals, value in kept])
