"""Debian's `wrk` driven from Python: generated Lua scripts in, parsed figures out.

Every run gets a Lua script that sets the request headers (so the session cookie is not
on wrk's command line) and, except for the baseline, counts responses by status in each
thread: wrk itself only reports "Non-2xx or 3xx", and a redirect to the login page must
count as a failure too. The baseline leaves that out, so wrk spends no Lua call per
response on it: the ratios to it can only come out lower for it, never higher.
`approve_script` also sends each request to the next (id, version) pair of its thread's
share of a file, so no two requests, and no two threads, approve the same article; with
`open_next` each request also names the thread's next article, whose panel (claimed) comes
back with the answer, as in the browser.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

THREADS = 2
CONNECTIONS = 8

COUNT_STATUSES = """
local threads = {}
local started = 0

function setup(thread)
  thread:set("thread_index", started)
  started = started + 1
  table.insert(threads, thread)
end

statuses = {}

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total, wrapped = {}, 0
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
    wrapped = wrapped + (thread:get("wrapped") or 0)
  end
  local parts = {}
  for status, count in pairs(total) do
    table.insert(parts, status .. "=" .. count)
  end
  io.write("bench-statuses " .. table.concat(parts, " ") .. "\\n")
  io.write("bench-wrapped " .. wrapped .. "\\n")
end
"""

APPROVE_REQUESTS = """
wrk.method = "POST"
wrapped = 0
local mine, position = {}, 0

function init(args)
  local line_number = 0
  for line in io.lines(%(pairs_path)s) do
    if line_number %% %(threads)d == thread_index then
      local id, version = line:match("^(%%d+) (%%d+)$")
      mine[#mine + 1] = {id, version}
    end
    line_number = line_number + 1
  end
end

function request()
  position = position + 1
  if position > #mine then
    position, wrapped = 1, wrapped + 1
  end
  local id, body = mine[position][1], "version=" .. mine[position][2]
  if %(open_next)s then
    body = body .. "&answer=moderation&open_next=" .. (mine[position + 1] or mine[1])[1]
  end
  return wrk.format("POST", %(path_before)s .. id .. %(path_after)s, nil, body)
end
"""


@dataclass
class WrkResult:
    name: str
    requests: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    statuses: dict[int, int] = field(default_factory=dict)
    non_2xx_or_3xx: int = 0
    socket_errors: int = 0
    wrapped: int = 0

    @property
    def non_2xx(self) -> int:
        """Responses that were not 2xx: counted by status when the script did, else wrk's figure."""
        if not self.statuses:
            return self.non_2xx_or_3xx
        return sum(count for status, count in self.statuses.items() if not 200 <= status < 300)


def lua_string(value: str) -> str:
    """`value` as a Lua string literal (printable ASCII only: cookies, tokens, paths)."""
    if not all(32 <= ord(c) < 127 for c in value):
        raise ValueError(f"not printable ASCII: {value!r}")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def headers_lua(headers: dict[str, str]) -> str:
    return "".join(f"wrk.headers[{lua_string(k)}] = {lua_string(v)}\n" for k, v in headers.items())


def get_script(headers: dict[str, str], count_statuses: bool = True) -> str:
    """A wrk script: GET the command line's URL with `headers`, counting statuses."""
    return headers_lua(headers) + (COUNT_STATUSES if count_statuses else "")


def approve_script(
    headers: dict[str, str],
    pairs_path: Path,
    open_next: bool = False,
    threads: int = THREADS,
    path: str = "/articles/{id}/approve",
) -> str:
    """A wrk script: POST approve (`path`, the article's id in it) for each "id version" line of
    `pairs_path`, a share for each of the `threads` threads (with `open_next`, naming the thread's
    next article to open, as the panel does)."""
    before, after = path.split("{id}")
    requests = APPROVE_REQUESTS % {
        "pairs_path": lua_string(str(pairs_path)),
        "threads": threads,
        "open_next": "true" if open_next else "false",
        "path_before": lua_string(before),
        "path_after": lua_string(after),
    }
    return headers_lua(headers) + COUNT_STATUSES + requests


def run_wrk(name: str, url: str, script: str, seconds: int, scratch: Path) -> WrkResult:
    """Run `wrk -t2 -c8 -dNs --latency` with `script` against `url` (127.0.0.1 only)."""
    return run_wrk_split(name, [(url, script)], seconds, scratch)


def run_wrk_split(name: str, targets: list[tuple[str, str]], seconds: int, scratch: Path) -> WrkResult:
    """Run one wrk per (url, script) of `targets` at once, sharing out THREADS and CONNECTIONS (-t1 -c4
    each for two), and add their figures up: requests and requests/s summed, the slowest p50 and p99."""
    if len(targets) > THREADS:
        raise ValueError(f"at most {THREADS} targets, one wrk thread each")
    processes = []
    for number, (url, script) in enumerate(targets):
        if not url.startswith("http://127.0.0.1:"):
            raise ValueError(f"load goes to 127.0.0.1 only, not {url}")
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()) + (f"-{number}" if len(targets) > 1 else "")
        script_path = scratch / f"wrk-{slug}.lua"
        script_path.write_text(script)
        command = [
            "wrk",
            f"-t{THREADS // len(targets)}",
            f"-c{CONNECTIONS // len(targets)}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script_path),
            url,
        ]
        processes.append(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = []
    for process in processes:
        try:
            output, errors = process.communicate(timeout=seconds + 60)
        except subprocess.TimeoutExpired:
            process.kill()
            output, errors = process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"wrk failed ({process.returncode}): {errors.strip() or output.strip()}")
        results.append(parse_output(name, output))
    return results[0] if len(results) == 1 else combined(name, results)


def combined(name: str, results: list[WrkResult]) -> WrkResult:
    """The figures of wrk runs made at once, as one: sums, and the slowest percentiles."""
    statuses: dict[int, int] = {}
    for result in results:
        for status, count in result.statuses.items():
            statuses[status] = statuses.get(status, 0) + count
    return WrkResult(
        name=name,
        requests=sum(r.requests for r in results),
        requests_per_second=sum(r.requests_per_second for r in results),
        p50_ms=max(r.p50_ms for r in results),
        p99_ms=max(r.p99_ms for r in results),
        statuses=statuses,
        non_2xx_or_3xx=sum(r.non_2xx_or_3xx for r in results),
        socket_errors=sum(r.socket_errors for r in results),
        wrapped=sum(r.wrapped for r in results),
    )


def parse_output(name: str, output: str) -> WrkResult:
    """The figures in wrk's --latency output and in our script's done() lines."""
    latencies = {
        int(m[1]): _milliseconds(float(m[2]), m[3])
        for m in re.finditer(r"^\s*(50|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.M)
    }
    statuses = re.search(r"^bench-statuses(.*)$", output, re.M)
    wrapped = re.search(r"^bench-wrapped (\d+)$", output, re.M)
    non_2xx_or_3xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    try:
        return WrkResult(
            name=name,
            requests=int(re.search(r"^\s*(\d+) requests in", output, re.M)[1]),
            requests_per_second=float(re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)[1]),
            p50_ms=latencies[50],
            p99_ms=latencies[99],
            statuses={int(s): int(c) for s, c in re.findall(r"(\d+)=(\d+)", statuses[1])} if statuses else {},
            non_2xx_or_3xx=int(non_2xx_or_3xx[1]) if non_2xx_or_3xx else 0,
            socket_errors=sum(map(int, socket_errors.groups())) if socket_errors else 0,
            wrapped=int(wrapped[1]) if wrapped else 0,
        )
    except (TypeError, KeyError) as error:
        raise RuntimeError(f"cannot read wrk's output ({error!r}):\n{output}") from None


def _milliseconds(value: float, unit: str) -> float:
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}[unit]
