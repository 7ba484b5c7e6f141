"""The knowledge-base index, on the real demo runbooks and on real SQLite files."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path

import pytest

from storage.knowledge import (
    KnowledgeBaseError,
    KnowledgeIndex,
    build_match_query,
    split_sections,
)

DEMO_KB = Path(str(files("agents.demo") / "kb"))


@pytest.fixture(scope="module")
def demo_index() -> Iterator[KnowledgeIndex]:
    with KnowledgeIndex(DEMO_KB) as index:
        yield index


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    """A private copy of the demo knowledge base that a test may edit."""
    return Path(shutil.copytree(DEMO_KB, tmp_path / "kb"))


def _bump_mtime(path: Path) -> None:
    """Move the mtime forward explicitly: a coarse file system clock must not hide an edit."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))


# -- ranking on the demo knowledge base -----------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("users can't log in with SSO", "sso-and-login.md"),
        ("SAML certificate expired, SSO-101", "sso-and-login.md"),
        ("account locked after too many attempts", "sso-and-login.md"),
        ("webhooks not delivered", "webhook-delivery.md"),
        ("our webhook endpoint got disabled", "webhook-delivery.md"),
        ("got 429 from the api", "api-errors-and-rate-limits.md"),
        ("500 internal server error from the API", "api-errors-and-rate-limits.md"),
        ("refund policy for annual plan", "refunds-and-billing-faq.md"),
        ("customer was charged twice", "refunds-and-billing-faq.md"),
        ("prorated upgrade invoice", "refunds-and-billing-faq.md"),
        ("password reset email never arrived", "password-reset-email.md"),
        ("dashboard is really slow", "dashboard-latency.md"),
        ("database replica lag", "dashboard-latency.md"),
        ("app crashes on startup on iPhone", "mobile-app-crash.md"),
        ("how do I export all our data to CSV", "data-export.md"),
        ("who do we page for a SEV1", "incident-response.md"),
        ("what are the severity levels", "incident-response.md"),
        ("customer card declined insufficient funds", "payment-declined-dunning.md"),
        ("payment failed, when do we retry", "payment-declined-dunning.md"),
        ("how do I post on the status page", "status-page-and-services.md"),
    ],
)
def test_realistic_queries_find_the_right_runbook_first(
    demo_index: KnowledgeIndex, query: str, expected: str
) -> None:
    hits = demo_index.search(query)
    assert hits, query
    assert hits[0].path == expected, [(h.path, h.heading) for h in hits]


def test_hits_carry_heading_path_snippet_and_descending_scores(
    demo_index: KnowledgeIndex,
) -> None:
    hits = demo_index.search("webhook signature verification fails", limit=4)
    assert len(hits) == 4
    top = hits[0]
    assert top.heading == "Webhook delivery failures > Signature verification failures"
    assert top.path == "webhook-delivery.md"
    assert "Larkspur-Signature" in top.body
    assert top.snippet
    assert all(hit.score > 0 for hit in hits)
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)
    lines = (DEMO_KB / top.path).read_text(encoding="utf-8").splitlines()
    assert lines[top.line - 1] == "## Signature verification failures"


def test_snippet_highlights_matched_words_only_when_asked(demo_index: KnowledgeIndex) -> None:
    plain = demo_index.search("insufficient funds", limit=1)[0]
    marked = demo_index.search("insufficient funds", limit=1, highlight=("<b>", "</b>"))[0]
    assert "<b>" not in plain.snippet
    assert "<b>insufficient</b>" in marked.snippet.lower()
    assert plain.path == marked.path and plain.heading == marked.heading


def test_limit_bounds_the_number_of_hits(demo_index: KnowledgeIndex) -> None:
    assert len(demo_index.search("api", limit=3)) == 3
    assert demo_index.search("api", limit=0) == []


@pytest.mark.parametrize("query", ["", "   ", "\n\t", "the and of", "?!", "a", "can't"])
def test_empty_or_meaningless_query_returns_nothing(demo_index: KnowledgeIndex, query: str) -> None:
    assert demo_index.search(query) == []


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '"unterminated phrase',
        "*",
        "webhook*",
        "AND",
        "OR NOT AND",
        "-",
        "- api",
        ":",
        "title: sso",
        "subheading:429 body:retry",
        "NEAR(api rate, 2)",
        "(((",
        "{title body}: x",
        "^api",
        "'; DROP TABLE kb_sections; --",
        "\x00\x01",
        "ünïcödé façade Straße 東京",
        "🔥🔥 api down 🔥",
        "*" * 500,
        "api " * 5000,
    ],
)
def test_hostile_queries_never_raise(demo_index: KnowledgeIndex, query: str) -> None:
    hits = demo_index.search(query)
    assert isinstance(hits, list)
    assert demo_index.section_count() > 50  # and nothing was dropped


def test_fts_operators_typed_by_a_user_are_plain_words(demo_index: KnowledgeIndex) -> None:
    hits = demo_index.search('webhooks AND NOT "delivered" -retries')
    assert hits and hits[0].path == "webhook-delivery.md"


# -- the query builder and the section splitter ---------------------------------------------------


def test_build_match_query_quotes_every_term_and_drops_stop_words() -> None:
    assert build_match_query('Why did "SSO" fail for OR users? id:7') == (
        '"sso"* OR "fail"* OR "users"* OR "id"'
    )
    assert build_match_query("the of and") is None
    assert build_match_query("api api API") == '"api"*'


def test_build_match_query_bounds_the_number_of_terms() -> None:
    query = build_match_query(" ".join(f"word{i}" for i in range(100)))
    assert query is not None
    assert query.count(" OR ") == 23


def test_split_sections_builds_heading_paths_and_ignores_code_fences() -> None:
    text = "\n".join(
        [
            "Intro before any heading.",
            "# Runbook",
            "Overview.",
            "## Steps",
            "```bash",
            "# not a heading, a shell comment",
            "lsctl restart",
            "```",
            "### Deeper",
            "Detail.",
            "## Empty",
            "## Last ##",
            "Tail.",
        ]
    )
    sections = split_sections(text, "r.md")
    assert [(s.heading, s.line) for s in sections] == [
        ("", 1),
        ("Runbook", 2),
        ("Runbook > Steps", 4),
        ("Runbook > Steps > Deeper", 9),
        ("Runbook > Last", 12),
    ]
    assert "# not a heading" in sections[2].body
    assert sections[3].title == "Runbook"
    assert sections[3].subheading == "Steps > Deeper"
    assert sections[1].subheading == ""


# -- keeping the index up to date -----------------------------------------------------------------


def test_refresh_picks_up_a_changed_file(kb_copy: Path) -> None:
    with KnowledgeIndex(kb_copy, check_interval=3600) as index:
        assert index.search("zeppelin") == []
        runbook = kb_copy / "webhook-delivery.md"
        runbook.write_text(
            runbook.read_text(encoding="utf-8") + "\n## Zeppelin relay\n\nRestart the relay.\n",
            encoding="utf-8",
        )
        _bump_mtime(runbook)
        assert index.refresh() is True
        hits = index.search("zeppelin")
        assert [(h.path, h.heading) for h in hits] == [
            ("webhook-delivery.md", "Webhook delivery failures > Zeppelin relay")
        ]
        assert index.refresh() is False


def test_refresh_picks_up_new_and_deleted_files(kb_copy: Path) -> None:
    with KnowledgeIndex(kb_copy, check_interval=3600) as index:
        before = index.section_count()
        (kb_copy / "ops").mkdir()
        (kb_copy / "ops" / "quokka.md").write_text("# Quokka cache\n\nFlush it.\n", "utf-8")
        assert index.refresh() is True
        assert index.search("quokka")[0].path == "ops/quokka.md"
        assert index.section_count() == before + 1
        assert index.search("CacheMigrator")
        (kb_copy / "mobile-app-crash.md").unlink()
        assert index.refresh() is True
        assert index.search("CacheMigrator") == []


def test_touching_a_file_without_changing_it_does_not_reindex(kb_copy: Path) -> None:
    with KnowledgeIndex(kb_copy) as index:
        index.refresh()
        _bump_mtime(kb_copy / "data-export.md")
        assert index.refresh() is False


def test_search_notices_edits_by_itself(kb_copy: Path) -> None:
    with KnowledgeIndex(kb_copy, check_interval=0) as index:
        assert index.search("wombat") == []
        path = kb_copy / "data-export.md"
        path.write_text("# Data export\n\nWombat mode exports everything.\n", "utf-8")
        _bump_mtime(path)
        assert index.search("wombat")[0].path == "data-export.md"


def test_file_index_survives_a_restart_without_reindexing(kb_copy: Path, tmp_path: Path) -> None:
    db = tmp_path / "kb.sqlite"
    with KnowledgeIndex(kb_copy, db) as index:
        assert index.refresh() is True
        count = index.section_count()
    with KnowledgeIndex(kb_copy, db) as index:
        assert index.refresh() is False
        assert index.section_count() == count
        assert index.search("SSO")[0].path == "sso-and-login.md"


def test_an_index_of_another_schema_version_is_rebuilt(kb_copy: Path, tmp_path: Path) -> None:
    db = tmp_path / "kb.sqlite"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE kb_files (path TEXT)")
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    with KnowledgeIndex(kb_copy, db) as index:
        assert index.search("webhooks")[0].path == "webhook-delivery.md"


def test_rebuild_reindexes_everything(kb_copy: Path) -> None:
    with KnowledgeIndex(kb_copy) as index:
        count = index.section_count()
        assert index.rebuild() == count


def test_missing_folder_says_what_to_do(tmp_path: Path) -> None:
    with KnowledgeIndex(tmp_path / "nowhere") as index, pytest.raises(KnowledgeBaseError) as err:
        index.search("sso")
    assert "folder of Markdown" in str(err.value)


# -- async wrappers -------------------------------------------------------------------------------


async def test_async_wrappers_match_the_sync_api(demo_index: KnowledgeIndex) -> None:
    assert await demo_index.refresh_async() in {True, False}
    assert await demo_index.search_async("got 429 from the api") == demo_index.search(
        "got 429 from the api"
    )


async def test_concurrent_searches_from_threads_are_safe(kb_copy: Path) -> None:
    with KnowledgeIndex(kb_copy, check_interval=0) as index:
        queries = ["sso", "webhooks", "refund", "429", "export", "sev1"] * 10
        results = await asyncio.gather(*(index.search_async(q) for q in queries))
        assert all(results)
