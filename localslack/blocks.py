"""Block Kit validation with Slack's limits, so a message Slack would refuse is refused here.

``validate_blocks`` returns Slack-style error strings ("must be less than 3001 characters
[json-pointer:/blocks/0/text/text]"); the caller answers ``invalid_blocks`` with them. It checks
what bites in practice: counts, lengths, required fields, known block and element types.
"""

from __future__ import annotations

from typing import Any

MAX_BLOCKS = 50

BLOCK_TYPES = frozenset(
    {
        "section",
        "header",
        "context",
        "divider",
        "image",
        "actions",
        "rich_text",
        "input",
        "file",
        "video",
        "markdown",
        "context_actions",
        "table",
    }
)

ELEMENT_TYPES = frozenset(
    {
        "button",
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
        "multi_static_select",
        "multi_external_select",
        "multi_users_select",
        "multi_conversations_select",
        "multi_channels_select",
        "overflow",
        "datepicker",
        "datetimepicker",
        "timepicker",
        "checkboxes",
        "radio_buttons",
        "image",
        "plain_text_input",
        "email_text_input",
        "url_text_input",
        "number_input",
        "rich_text_input",
        "workflow_button",
        "feedback_buttons",
        "icon_button",
    }
)


class _Checker:
    """Collects errors while walking one blocks array."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def fail(self, message: str, pointer: str) -> None:
        self.errors.append(f"{message} [json-pointer:{pointer}]")

    def max_len(self, value: Any, limit: int, pointer: str) -> None:
        if isinstance(value, str) and len(value) > limit:
            self.fail(f"must be less than {limit + 1} characters", pointer)

    def text_object(self, obj: Any, pointer: str, limit: int, *, plain_only: bool = False) -> None:
        if not isinstance(obj, dict):
            self.fail("must provide an object", pointer)
            return
        kind = obj.get("type")
        allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
        if kind not in allowed:
            self.fail(f"must be one of: {', '.join(allowed)}", pointer + "/type")
        text = obj.get("text")
        if not isinstance(text, str) or not text:
            self.fail("must be more than 0 characters", pointer + "/text")
            return
        self.max_len(text, limit, pointer + "/text")

    def confirm(self, obj: Any, pointer: str) -> None:
        if not isinstance(obj, dict):
            self.fail("must provide an object", pointer)
            return
        self.text_object(obj.get("title"), pointer + "/title", 100, plain_only=True)
        self.text_object(obj.get("text"), pointer + "/text", 300)
        self.text_object(obj.get("confirm"), pointer + "/confirm", 30, plain_only=True)
        self.text_object(obj.get("deny"), pointer + "/deny", 30, plain_only=True)

    def element(self, el: Any, pointer: str) -> None:
        if not isinstance(el, dict):
            self.fail("must provide an object", pointer)
            return
        kind = el.get("type")
        if kind not in ELEMENT_TYPES:
            self.fail(f"unsupported type: {kind}", pointer + "/type")
            return
        self.max_len(el.get("action_id"), 255, pointer + "/action_id")
        if kind == "button":
            self.text_object(el.get("text"), pointer + "/text", 75, plain_only=True)
            self.max_len(el.get("value"), 2000, pointer + "/value")
            self.max_len(el.get("url"), 3000, pointer + "/url")
            style = el.get("style")
            if style is not None and style not in ("primary", "danger"):
                self.fail("must be one of: primary, danger", pointer + "/style")
        if kind == "plain_text_input":
            self.plain_text_input(el, pointer)
        if "confirm" in el:
            self.confirm(el["confirm"], pointer + "/confirm")

    def plain_text_input(self, el: dict[str, Any], pointer: str) -> None:
        if "placeholder" in el:
            self.text_object(el["placeholder"], pointer + "/placeholder", 150, plain_only=True)
        self.max_len(el.get("initial_value"), 3000, pointer + "/initial_value")
        low, high = el.get("min_length", 0), el.get("max_length", 3000)
        if not isinstance(low, int) or not 0 <= low <= 3000:
            self.fail("must be an integer from 0 to 3000", pointer + "/min_length")
        if not isinstance(high, int) or not 1 <= high <= 3000:
            self.fail("must be an integer from 1 to 3000", pointer + "/max_length")

    def block(self, block: Any, pointer: str) -> None:
        if not isinstance(block, dict):
            self.fail("must provide an object", pointer)
            return
        kind = block.get("type")
        if kind not in BLOCK_TYPES:
            self.fail(f"unsupported type: {kind}", pointer + "/type")
            return
        self.max_len(block.get("block_id"), 255, pointer + "/block_id")
        check = getattr(self, f"block_{kind}", None)
        if check is not None:
            check(block, pointer)

    def block_section(self, block: dict[str, Any], pointer: str) -> None:
        if "text" not in block and "fields" not in block:
            self.fail("must provide either text or fields", pointer)
        if "text" in block:
            self.text_object(block["text"], pointer + "/text", 3000)
        fields = block.get("fields", [])
        if not isinstance(fields, list) or len(fields) > 10:
            self.fail("must provide an array of at most 10 items", pointer + "/fields")
        else:
            for i, field in enumerate(fields):
                self.text_object(field, f"{pointer}/fields/{i}", 2000)
        if "accessory" in block:
            self.element(block["accessory"], pointer + "/accessory")

    def block_header(self, block: dict[str, Any], pointer: str) -> None:
        self.text_object(block.get("text"), pointer + "/text", 150, plain_only=True)

    def block_context(self, block: dict[str, Any], pointer: str) -> None:
        elements = block.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
            self.fail("must provide an array of 1 to 10 items", pointer + "/elements")
            return
        for i, el in enumerate(elements):
            if isinstance(el, dict) and el.get("type") == "image":
                self.max_len(el.get("alt_text"), 2000, f"{pointer}/elements/{i}/alt_text")
            else:
                self.text_object(el, f"{pointer}/elements/{i}", 3000)

    def block_image(self, block: dict[str, Any], pointer: str) -> None:
        if "image_url" not in block and "slack_file" not in block:
            self.fail("must provide either image_url or slack_file", pointer)
        self.max_len(block.get("image_url"), 3000, pointer + "/image_url")
        alt = block.get("alt_text")
        if not isinstance(alt, str) or not alt:
            self.fail("missing required field: alt_text", pointer + "/alt_text")
        self.max_len(alt, 2000, pointer + "/alt_text")
        if "title" in block:
            self.text_object(block["title"], pointer + "/title", 2000, plain_only=True)

    def block_input(self, block: dict[str, Any], pointer: str) -> None:
        self.text_object(block.get("label"), pointer + "/label", 2000, plain_only=True)
        if "hint" in block:
            self.text_object(block["hint"], pointer + "/hint", 2000, plain_only=True)
        element = block.get("element")
        if element is None:
            self.fail("missing required field: element", pointer + "/element")
        else:
            self.element(element, pointer + "/element")

    def block_actions(self, block: dict[str, Any], pointer: str) -> None:
        elements = block.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= 25:
            self.fail("must provide an array of 1 to 25 items", pointer + "/elements")
            return
        for i, el in enumerate(elements):
            self.element(el, f"{pointer}/elements/{i}")


def validate_blocks(blocks: Any, *, limit: int = MAX_BLOCKS, root: str = "/blocks") -> list[str]:
    """Slack-style error strings for a blocks array; empty when Slack would accept it.

    Messages hold at most 50 blocks; views (``root="/view/blocks"``) hold 100.
    """
    checker = _Checker()
    if not isinstance(blocks, list):
        checker.fail("must provide an array", root)
        return checker.errors
    if len(blocks) > limit:
        checker.fail(f"no more than {limit} items allowed", root)
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        checker.block(block, f"{root}/{i}")
        block_id = block.get("block_id") if isinstance(block, dict) else None
        if isinstance(block_id, str):
            if block_id in seen:
                checker.fail(f"duplicate block_id: {block_id}", f"{root}/{i}/block_id")
            seen.add(block_id)
    return checker.errors


def find_action(
    blocks: list[dict[str, Any]], action_id: str, block_id: str | None = None
) -> tuple[str, dict[str, Any]] | None:
    """The (block_id, element) of the interactive element with ``action_id``, if any.

    An action_id need only be unique within its block (a Home tab may list many cards with an
    Approve button each), so ``block_id`` picks the block when given.
    """
    for block in blocks:
        if block_id is not None and block.get("block_id") != block_id:
            continue
        candidates: list[Any] = []
        if block.get("type") == "actions":
            candidates = list(block.get("elements", []))
        elif block.get("type") == "section" and "accessory" in block:
            candidates = [block["accessory"]]
        for el in candidates:
            if isinstance(el, dict) and el.get("action_id") == action_id:
                return str(block.get("block_id", "")), el
    return None


def with_block_ids(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give every block a block_id, as Slack does when the app leaves it out."""
    out = []
    for i, block in enumerate(blocks):
        if "block_id" not in block:
            block = {**block, "block_id": f"b{i:02d}"}
        out.append(block)
    return out
