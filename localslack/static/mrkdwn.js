// Slack mrkdwn to HTML: *bold*, _italic_, ~strike~, `code`, ```pre```, > quotes,
// <url|text> links, <@U..> users, <#C..> channels, <!subteam^S..> groups, <!here>, :emoji:.
// Slack escapes only &, < and > in text; we decode those, then escape everything for HTML.

const EMOJI = {
  white_check_mark: "✅", heavy_check_mark: "✔️", x: "❌", warning: "⚠️", eyes: "👀",
  thumbsup: "👍", "+1": "👍", thumbsdown: "👎", tada: "🎉", fire: "🔥", rotating_light: "🚨",
  hourglass: "⌛", hourglass_flowing_sand: "⏳", money_with_wings: "💸", moneybag: "💰",
  pager: "📟", chart_with_upwards_trend: "📈", bar_chart: "📊", memo: "📝", mag: "🔍",
  robot_face: "🤖", wave: "👋", bulb: "💡", lock: "🔒", bell: "🔔", calendar: "📅",
  red_circle: "🔴", large_green_circle: "🟢", large_yellow_circle: "🟡", information_source: "ℹ️",
  question: "❓", exclamation: "❗", hammer_and_wrench: "🛠️", speech_balloon: "💬",
  receipt: "🧾", credit_card: "💳", ticket: "🎫", books: "📚", sparkles: "✨", pray: "🙏",
  heart: "❤️", smile: "😄", thinking_face: "🤔", stopwatch: "⏱️", link: "🔗", inbox_tray: "📥",
};

export function escapeHtml(text) {
  return String(text)
    .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

function decodeSlack(text) {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

export function emojiFor(name) {
  return EMOJI[name] || `:${name}:`;
}

function safeUrl(url) {
  return /^(https?:|mailto:|\/)/i.test(url) ? url : "#";
}

// Render one <...> token; `dir` names users, channels and groups.
function renderToken(body, dir) {
  const [target, label] = splitOnce(body, "|");
  if (target.startsWith("@")) {
    const id = target.slice(1);
    const name = label || (dir.users[id] ? dir.users[id].name : id);
    const cls = id === dir.me ? "mention me" : "mention";
    return `<span class="${cls}" data-user="${escapeHtml(id)}">@${escapeHtml(name)}</span>`;
  }
  if (target.startsWith("#")) {
    const id = target.slice(1);
    const name = label || (dir.channels[id] ? dir.channels[id].name : id);
    return `<span class="mention channel" data-channel="${escapeHtml(id)}">#${escapeHtml(name)}</span>`;
  }
  if (target.startsWith("!subteam^")) {
    const id = target.slice("!subteam^".length);
    const group = dir.groups[id];
    const name = label ? label.replace(/^@/, "") : group ? group.handle : id;
    const mine = group && group.users.includes(dir.me) ? " me" : "";
    return `<span class="mention group${mine}">@${escapeHtml(name)}</span>`;
  }
  if (target.startsWith("!date^")) {
    // <!date^epoch^format|fallback>: Slack shows the time in the reader's zone; show it local.
    const epoch = Number(target.split("^")[1]);
    const shown = Number.isFinite(epoch) ? new Date(epoch * 1000).toLocaleString() : label;
    return `<time>${escapeHtml(shown || label || "")}</time>`;
  }
  if (target.startsWith("!")) {
    const word = target.slice(1).split("^")[0];
    return `<span class="mention me">@${escapeHtml(label || word)}</span>`;
  }
  const url = safeUrl(target);
  return `<a href="${escapeHtml(url)}" target="_blank" rel="noopener">${escapeHtml(label || target)}</a>`;
}

function splitOnce(text, sep) {
  const at = text.indexOf(sep);
  return at < 0 ? [text, ""] : [text.slice(0, at), text.slice(at + 1)];
}

function inlineFormat(html) {
  const edge = "(^|[\\s(>\\u00a0])";
  const end = "(?=$|[\\s.,!?;:)<\\u00a0])";
  return html
    .replace(new RegExp(`${edge}\\*([^*\\n]+?)\\*${end}`, "g"), "$1<b>$2</b>")
    .replace(new RegExp(`${edge}_([^_\\n]+?)_${end}`, "g"), "$1<i>$2</i>")
    .replace(new RegExp(`${edge}~([^~\\n]+?)~${end}`, "g"), "$1<s>$2</s>")
    .replace(/:([a-z0-9_+-]+):/g, (m, name) => (EMOJI[name] ? EMOJI[name] : m));
}

// mrkdwn text -> HTML string. `dir` = {users, channels, groups, me}.
export function renderMrkdwn(text, dir) {
  const slots = [];
  const keep = (html) => `\u0000${slots.push(html) - 1}\u0000`;
  let src = String(text || "");
  src = src.replace(/```([\s\S]*?)```/g, (_, code) => keep(`<pre>${escapeHtml(decodeSlack(code.replace(/^\n/, "")))}</pre>`));
  src = src.replace(/`([^`\n]+)`/g, (_, code) => keep(`<code>${escapeHtml(decodeSlack(code))}</code>`));
  src = src.replace(/<([^<>\n]+)>/g, (_, body) => keep(renderToken(decodeSlack(body), dir)));
  let html = escapeHtml(decodeSlack(src));
  html = html
    .split("\n")
    .map((line) => (line.startsWith("&gt; ") || line === "&gt;"
      ? `<blockquote>${inlineFormat(line.replace(/^&gt; ?/, ""))}</blockquote>`
      : inlineFormat(line)))
    .join("<br>")
    .replace(/<\/blockquote><br><blockquote>/g, "<br>");
  return html.replace(/\u0000(\d+)\u0000/g, (_, i) => slots[Number(i)]);
}

// plain_text objects: escape, and turn :emoji: into characters when emoji is true.
export function renderPlain(text, emoji = true) {
  const html = escapeHtml(text || "");
  return emoji ? html.replace(/:([a-z0-9_+-]+):/g, (m, n) => (EMOJI[n] ? EMOJI[n] : m)) : html;
}

export function renderTextObject(obj, dir) {
  if (!obj) return "";
  return obj.type === "mrkdwn" ? renderMrkdwn(obj.text, dir) : renderPlain(obj.text, obj.emoji !== false);
}
