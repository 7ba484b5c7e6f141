"""A full-text index of a folder of Markdown runbooks, on SQLite FTS5.

The knowledge base is a folder of Markdown files; this module keeps a derived search index of
it. Files are split into sections at their headings, because an answer to "webhooks not
delivered" lives in one section of a runbook, not in the whole file, and a heading path
("Webhook delivery failures > Re-enable and replay") tells a reader where it came from.

The index is derived data: it is rebuilt from the files and never migrated. A schema change
bumps ``_SCHEMA_VERSION`` and the tables are dropped and recreated. Changed files are found by
comparing size and mtime first, then a SHA-256 of the content, so a check costs one ``stat``
per file and only a changed file is read and re-indexed.

Search input comes from people typing in Slack. FTS5 has its own query language, where ``"``,
``*``, ``:``, ``-``, ``AND`` and ``NEAR`` mean something, so user text is never passed through:
it is cut into words, stop words are dropped, and each word is quoted and joined with ``OR``
(with prefix matching for longer words). bm25 ranks the rows with three weighted columns:
the section's own headings above its body text, because a section titled "429 Too Many
Requests" answers a 429 question better than a passing mention of 429 elsewhere, and the
file's title lower, because it is shared by every section of the file. A file prior (see
`_rerank`) then favours the runbook that matches in several sections.

Give the index its own SQLite file (or ``:memory:``): it owns ``PRAGMA user_version`` there
and drops its tables when the version differs.

The API is synchronous (SQLite is fast at this size); the ``*_async`` methods run it in a
worker thread so that the async agents never block the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "IndexHit",
    "KnowledgeBaseError",
    "KnowledgeIndex",
    "Section",
    "build_match_query",
    "split_sections",
]

_SCHEMA_VERSION = 2
_TITLE_WEIGHT = 2.0
_HEADING_WEIGHT = 8.0
_BODY_WEIGHT = 1.0
_FILE_PRIOR = 0.5
_FILE_PRIOR_SECTIONS = 3
_MAX_CANDIDATES = 200
_MAX_TERMS = 24
_MAX_QUERY_CHARS = 2000
_MIN_PREFIX_LEN = 3
_HEADING_SEPARATOR = " > "

_HEADING_RE = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_FENCE_RE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})")
_WORD_RE = re.compile(r"\w+", re.UNICODE)

# Words that carry no meaning for a runbook search. Kept short on purpose: "not", "no" and
# "can't" are dropped because a bag-of-words OR query cannot use negation anyway.
_STOP_WORDS_TEXT = """
a about after again all also am an and any are as at be been before being but by can
cannot could did do does doing don done for from get gets getting got had has have having
he her here hers him his how i if in into is isn it its just me my no nor not now of off
on once only or our ours out over own please same she should so some such than that the
their them then there these they this those through to too under until up very was we
were what when where which while who whom why will with won would you your yours
hi hello hey thanks thank anyone someone something still really keep keeps
"""
_STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())


# Column order in kb_sections: title, subheading, body (indexed); heading, path, line (stored).
_CANDIDATES_SQL = (
    "SELECT rowid, path, bm25(kb_sections, ?, ?, ?) AS rank FROM kb_sections "
    "WHERE kb_sections MATCH ? ORDER BY rank, path, line LIMIT ?"
)
_DETAILS_SQL = (
    "SELECT rowid, path, heading, snippet(kb_sections, 2, ?, ?, ' … ', 24), body, line "
    "FROM kb_sections WHERE kb_sections MATCH ? "
    "AND rowid IN (SELECT value FROM json_each(?))"
)


class KnowledgeBaseError(Exception):
    """Raised when the knowledge base folder cannot be indexed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Section:
    """One section of a Markdown file: the text under one heading, up to the next heading.

    ``heading`` is the path of headings from the file's title down, joined with " > ", so a
    section can be shown without its file. ``title`` is the file's ``#`` title (empty if it has
    none); ``subheading`` is the rest of the path below it, which is what tells the sections
    of one file apart. ``line`` is the 1-based line of the heading (or 1 for text before any
    heading), for citing the source.
    """

    path: str
    heading: str
    body: str
    line: int
    title: str = ""

    @property
    def subheading(self) -> str:
        """The heading path below the file's title ("" for the title's own section)."""
        if not self.title:
            return self.heading
        return self.heading[len(self.title) :].removeprefix(_HEADING_SEPARATOR)


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexHit:
    """A ranked search result.

    ``score`` is the section's bm25 relevance (negated, so higher is better) plus its file's
    prior; it is only comparable between hits of the same search. ``snippet`` is a short
    excerpt of the body around the matched words, made by FTS5; ``body`` is the whole
    section, for an agent that quotes the steps.
    """

    path: str
    heading: str
    snippet: str
    score: float
    body: str
    line: int


@dataclass(frozen=True, slots=True)
class _FileState:
    mtime_ns: int
    size: int
    sha256: str


def split_sections(text: str, path: str) -> list[Section]:
    """Split Markdown ``text`` into sections at ATX headings (``#`` to ``######``).

    Headings inside fenced code blocks are ignored, since ``# restart the worker`` in a shell
    example is a comment, not a heading. Sections with an empty body are left out: their
    heading still appears in the heading path of the sections below them.
    """
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    body: list[str] = []
    start_line = 1
    fence: str | None = None

    def flush() -> None:
        content = "\n".join(body).strip()
        if content:
            heading = _HEADING_SEPARATOR.join(title for _, title in stack)
            title = stack[0][1] if stack and stack[0][0] == 1 else ""
            sections.append(
                Section(path=path, heading=heading, body=content, line=start_line, title=title)
            )
        body.clear()

    for number, line in enumerate(text.splitlines(), start=1):
        fence_match = _FENCE_RE.match(line)
        if fence_match:
            marker = fence_match.group(1)
            if fence is None:
                fence = marker[0] * 3
            elif marker.startswith(fence):
                fence = None
            body.append(line)
            continue
        heading_match = _HEADING_RE.match(line) if fence is None else None
        if heading_match is None:
            body.append(line)
            continue
        flush()
        level = len(heading_match.group(1))
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, heading_match.group(2).strip()))
        start_line = number
    flush()
    return sections


def build_match_query(text: str) -> str | None:
    """Turn free text into a safe FTS5 MATCH expression, or None if nothing is left.

    Every term is a quoted string (``"webhook"*``), so no character or keyword the user types
    can reach the FTS5 parser as syntax. Terms are OR-ed so that a question phrased in other
    words than the runbook still finds it; bm25 rewards the rows that match more of them.
    Prefix matching on words of three or more characters lets "deliver" find "delivery";
    the porter stemmer handles most of that already, but not partial words or codes.
    """
    seen: set[str] = set()
    terms: list[str] = []
    for word in _WORD_RE.findall(text[:_MAX_QUERY_CHARS].lower()):
        word = word.strip("_")
        if len(word) < 2 or word in _STOP_WORDS or word in seen:
            continue
        seen.add(word)
        quoted = '"' + word.replace('"', '""') + '"'
        terms.append(quoted + "*" if len(word) >= _MIN_PREFIX_LEN else quoted)
        if len(terms) >= _MAX_TERMS:
            break
    return " OR ".join(terms) if terms else None


def _rerank(candidates: list[tuple[int, str, float]]) -> dict[int, float]:
    """Add a file prior to each section's bm25 score: rowid -> final score (higher is better).

    bm25 normalises by length, so a short section that mentions two query words in passing
    ("subscribe to the status page … for SEV1 incidents") can outrank the long section that
    is the real answer ("Who to page", a table). A runbook that matches the query in several
    sections is more likely the right one, so each section gets a share of its file's evidence:
    ``_FILE_PRIOR`` times the sum of the file's best ``_FILE_PRIOR_SECTIONS`` section scores.
    """
    by_file: dict[str, list[float]] = {}
    for _, path, score in candidates:
        by_file.setdefault(path, []).append(score)
    prior = {
        path: _FILE_PRIOR * sum(sorted(scores, reverse=True)[:_FILE_PRIOR_SECTIONS])
        for path, scores in by_file.items()
    }
    return {rowid: score + prior[path] for rowid, path, score in candidates}


class KnowledgeIndex:
    """A search index over the Markdown files under ``root``, kept in SQLite at ``db_path``.

    With ``db_path=":memory:"`` (the default) the index lives as long as this object; with a
    file path it survives restarts and only changed files are re-indexed. Searches check the
    folder for changes at most every ``check_interval`` seconds (0 checks on every search), so
    an edited runbook shows up without a restart. One connection is shared behind a lock,
    because the async wrappers run calls in worker threads.
    """

    def __init__(
        self,
        root: str | Path,
        db_path: str | Path = ":memory:",
        *,
        check_interval: float = 5.0,
    ) -> None:
        self._root = Path(root)
        self._check_interval = check_interval
        self._last_check: float | None = None
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(str(db_path), check_same_thread=False)
        self._ensure_schema()

    @property
    def root(self) -> Path:
        """The folder of Markdown files this index is built from."""
        return self._root

    def close(self) -> None:
        """Close the SQLite connection. The object must not be used afterwards."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> KnowledgeIndex:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- building -----------------------------------------------------------------------------

    def refresh(self) -> bool:
        """Bring the index up to date with the folder; return True if anything changed.

        Cheap when nothing changed: one ``stat`` per file. A file whose size or mtime moved is
        read and hashed; it is re-indexed only if the hash differs, so touching a file costs
        one read and no write to the index.
        """
        files = self._scan()
        with self._lock:
            changed = self._sync(files)
            self._last_check = time.monotonic()
        return changed

    def rebuild(self) -> int:
        """Drop the whole index and build it again from the files; return the section count.

        For when the index is suspect; `refresh` is enough after ordinary edits. The old rows
        are deleted in the same transaction that writes the new ones, so a concurrent search
        sees either the old index or the new one, never an empty one.
        """
        files = self._scan()
        with self._lock:
            self._sync(files, full=True)
            self._last_check = time.monotonic()
            row = self._conn.execute("SELECT count(*) FROM kb_sections").fetchone()
        return int(row[0])

    def section_count(self) -> int:
        """How many sections are indexed (after bringing the index up to date)."""
        self._maybe_refresh()
        with self._lock:
            row = self._conn.execute("SELECT count(*) FROM kb_sections").fetchone()
        return int(row[0])

    # -- searching ----------------------------------------------------------------------------

    def search(
        self, query: str, limit: int = 5, *, highlight: tuple[str, str] = ("", "")
    ) -> list[IndexHit]:
        """Return up to ``limit`` sections matching ``query``, best first.

        Any text is accepted: quotes, ``*``, ``:``, ``-`` and FTS5 keywords are treated as
        plain words, and a query of only stop words or punctuation returns no hits.
        ``highlight`` wraps the matched words in the snippet; it is empty by default because
        the caller knows its markup (Slack mrkdwn, HTML, a terminal) and this module does not.
        """
        match = build_match_query(query)
        if match is None or limit <= 0:
            return []
        self._maybe_refresh()
        with self._lock:
            candidates = self._conn.execute(
                _CANDIDATES_SQL,
                (_TITLE_WEIGHT, _HEADING_WEIGHT, _BODY_WEIGHT, match, _MAX_CANDIDATES),
            ).fetchall()
            scores = _rerank([(rowid, path, -float(rank)) for rowid, path, rank in candidates])
            top = sorted(scores, key=lambda rowid: -scores[rowid])[:limit]
            if not top:
                return []
            rows = self._conn.execute(_DETAILS_SQL, (*highlight, match, json.dumps(top))).fetchall()
        details = {row[0]: row[1:] for row in rows}
        hits: list[IndexHit] = []
        for rowid in top:
            path, heading, snippet, body, line = details[rowid]
            hits.append(
                IndexHit(
                    path=path,
                    heading=heading,
                    snippet=" ".join(snippet.split()),
                    score=scores[rowid],
                    body=body,
                    line=int(line),
                )
            )
        return hits

    async def search_async(
        self, query: str, limit: int = 5, *, highlight: tuple[str, str] = ("", "")
    ) -> list[IndexHit]:
        """`search` in a worker thread, for callers on the event loop."""
        return await asyncio.to_thread(self.search, query, limit, highlight=highlight)

    async def refresh_async(self) -> bool:
        """`refresh` in a worker thread, for callers on the event loop."""
        return await asyncio.to_thread(self.refresh)

    # -- internals ----------------------------------------------------------------------------

    def _ensure_schema(self) -> None:
        with self._lock, self._conn:
            version = int(self._conn.execute("PRAGMA user_version").fetchone()[0])
            if version != _SCHEMA_VERSION:
                self._conn.execute("DROP TABLE IF EXISTS kb_sections")
                self._conn.execute("DROP TABLE IF EXISTS kb_files")
            self._conn.execute(
                "CREATE VIRTUAL TABLE IF NOT EXISTS kb_sections USING fts5("
                "title, subheading, body, heading UNINDEXED, path UNINDEXED, line UNINDEXED, "
                "tokenize = 'porter unicode61 remove_diacritics 2')"
            )
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS kb_files ("
                "path TEXT PRIMARY KEY, mtime_ns INTEGER NOT NULL, "
                "size INTEGER NOT NULL, sha256 TEXT NOT NULL)"
            )
            self._conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")

    def _maybe_refresh(self) -> None:
        last = self._last_check
        if last is None or time.monotonic() - last >= self._check_interval:
            self.refresh()

    def _scan(self) -> dict[str, tuple[Path, int, int]]:
        """Map each Markdown file's relative POSIX path to (absolute path, mtime_ns, size)."""
        if not self._root.is_dir():
            raise KnowledgeBaseError(
                f"Knowledge base folder {self._root} does not exist or is not a folder; "
                "point the knowledge base setting at a folder of Markdown (.md) files."
            )
        found: dict[str, tuple[Path, int, int]] = {}
        for file in self._iter_markdown():
            try:
                stat = file.stat()
            except FileNotFoundError:  # deleted while we were listing
                continue
            found[file.relative_to(self._root).as_posix()] = (file, stat.st_mtime_ns, stat.st_size)
        return found

    def _iter_markdown(self) -> Iterator[Path]:
        for file in sorted(self._root.rglob("*.md")):
            parts = file.relative_to(self._root).parts
            if file.is_file() and not any(part.startswith(".") for part in parts):
                yield file

    def _sync(self, files: dict[str, tuple[Path, int, int]], *, full: bool = False) -> bool:
        """Apply the differences between ``files`` and the index in one transaction.

        With ``full`` every file is re-indexed. The caller holds the lock.
        """
        known = {
            path: _FileState(mtime_ns, size, sha)
            for path, mtime_ns, size, sha in self._conn.execute(
                "SELECT path, mtime_ns, size, sha256 FROM kb_files"
            )
        }
        changed = False
        with self._conn:
            if full:
                self._conn.execute("DELETE FROM kb_sections")
                self._conn.execute("DELETE FROM kb_files")
                known = {}
                changed = True
            for path in known.keys() - files.keys():
                self._conn.execute("DELETE FROM kb_sections WHERE path = ?", (path,))
                self._conn.execute("DELETE FROM kb_files WHERE path = ?", (path,))
                changed = True
            for path, (file, mtime_ns, size) in files.items():
                old = known.get(path)
                if old is not None and (old.mtime_ns, old.size) == (mtime_ns, size):
                    continue
                try:
                    data = file.read_bytes()
                except FileNotFoundError:  # deleted since the scan; the next refresh drops it
                    continue
                sha = hashlib.sha256(data).hexdigest()
                if old is None or old.sha256 != sha:
                    self._index_file(path, data.decode("utf-8", errors="replace"))
                    changed = True
                self._conn.execute(
                    "INSERT OR REPLACE INTO kb_files (path, mtime_ns, size, sha256) "
                    "VALUES (?, ?, ?, ?)",
                    (path, mtime_ns, size, sha),
                )
        return changed

    def _index_file(self, path: str, text: str) -> None:
        self._conn.execute("DELETE FROM kb_sections WHERE path = ?", (path,))
        self._conn.executemany(
            "INSERT INTO kb_sections (title, subheading, body, heading, path, line) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                (s.title, s.subheading, s.body, s.heading, s.path, s.line)
                for s in split_sections(text, path)
            ],
        )
