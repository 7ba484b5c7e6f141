"""Pasted logs and stack traces, boiled down to their error codes and messages.

People paste fifty lines of log with one line of question. The codes in them (`invalid_grant`,
`HTTP 401`, `ECONNREFUSED`, `NullPointerException`) are what a runbook is indexed by, and
everything else (timestamps, request ids, stack frames) drowns them: a classifier reads the log as
noise, and a search for the whole text matches nothing. So before a message is routed or handed
to a specialist, a pasted log is replaced by one line listing what it reports, and the person's
own words are kept as they wrote them.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

_TIMESTAMP = re.compile(r"\b\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d)?|\b\d\d:\d\d:\d\d\b")
_LEVEL = re.compile(r"\b(?:ERROR|WARN(?:ING)?|INFO|DEBUG|TRACE|FATAL|CRITICAL)\b")
_FRAME = re.compile(r"^\s*(?:at [\w$.<>]+\(|File \"[^\"]+\", line \d+|Traceback \(most recent)")
_KEY_VALUE = re.compile(r"\b\w+=\S+")
_FIELD = re.compile(
    r"\b(?:err|error|error_code|errorcode|code|reason|error_description)\s*[=:]\s*"
    r"[\"']?([A-Za-z][\w.-]{2,})",
    re.IGNORECASE,
)
_STATUS = re.compile(
    r"\b(?:status|status_code|http_status|HTTP/\d(?:\.\d)?)\s*[=:]?\s*([1-5]\d\d)\b"
    r"|\b([45]\d\d) (?:Unauthorized|Forbidden|Not Found|Bad Request|Too Many Requests|"
    r"Internal Server Error|Bad Gateway|Service Unavailable|Gateway Timeout)\b",
    re.IGNORECASE,
)
_EXCEPTION = re.compile(r"\b((?:[A-Za-z_][\w]*\.)*[A-Z]\w*(?:Error|Exception|Fault))\b")
_CONSTANT = re.compile(r"\b(E(?!RROR\b)[A-Z]{4,}|ERR_[A-Z0-9_]+|[A-Z]{2,}-\d{2,})\b")
_EXCEPTION_LINE = re.compile(r"^(?:[\w.]+\.)?[A-Z]\w*(?:Error|Exception)\b")
_MESSAGE = re.compile(
    r"(?:message|msg|error_description|detail)\s*[=:]\s*(\"[^\"]{4,120}\"|'[^']{4,120}')"
    r"|(?:Error|Exception|ERROR)\s*:\s*([^\n]{4,120})",
)
_MIN_LOG_LINES = 2
_MAX_CODES = 8
_MAX_MESSAGES = 3


@dataclass(frozen=True)
class Condensed:
    """The message as routing and the specialist should read it, and what the log held."""

    text: str
    codes: tuple[str, ...] = ()
    messages: tuple[str, ...] = ()

    @property
    def had_log(self) -> bool:
        return bool(self.codes or self.messages)


def _is_log_line(line: str, trace: bool) -> bool:
    """A line of a log (timestamps with levels or fields), or of a stack trace."""
    if trace and (line.startswith((" ", "\t")) or _EXCEPTION_LINE.match(line)):
        return True
    return bool(
        _FRAME.match(line)
        or (_TIMESTAMP.search(line) and (_LEVEL.search(line) or _KEY_VALUE.search(line)))
        or len(_KEY_VALUE.findall(line)) >= 2
        or (_LEVEL.match(line.strip()) is not None)
    )


def _codes(log: str) -> list[str]:
    found: Counter[str] = Counter()
    for match in _FIELD.finditer(log):
        found[match.group(1)] += 1
    for match in _STATUS.finditer(log):
        found[f"HTTP {match.group(1) or match.group(2)}"] += 1
    for pattern in (_EXCEPTION, _CONSTANT):
        for match in pattern.finditer(log):
            found[match.group(1)] += 1
    return [f"{code} ({n}×)" if n > 1 else code for code, n in found.most_common(_MAX_CODES)]


def _messages(log: str) -> list[str]:
    out: list[str] = []
    for match in _MESSAGE.finditer(log):
        message = (match.group(1) or match.group(2) or "").strip().strip("\"'").strip()
        if message and message not in out:
            out.append(message)
    return out[:_MAX_MESSAGES]


def condense(text: str) -> Condensed:
    """The person's words with any pasted log replaced by the codes and messages it reports."""
    lines = text.splitlines()
    trace = any(_FRAME.match(line) for line in lines)
    log_lines = [line for line in lines if _is_log_line(line, trace)]
    if len(log_lines) < _MIN_LOG_LINES:
        return Condensed(text)
    log = "\n".join(log_lines)
    codes, messages = _codes(log), _messages(log)
    prose = "\n".join(
        line for line in lines if line.strip() and line not in log_lines and "```" not in line
    )
    if not codes and not messages:
        return Condensed(text)
    found = []
    if codes:
        found.append("error codes " + ", ".join(codes))
    if messages:
        found.append("messages " + "; ".join(f'"{m}"' for m in messages))
    summary = f"From the pasted log: {' and '.join(found)}."
    return Condensed(f"{prose}\n{summary}".strip(), tuple(codes), tuple(messages))
