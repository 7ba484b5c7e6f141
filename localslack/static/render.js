// Rendering messages: author, text or blocks, files, reactions, thread summary, status, and
// the hover bar (reactions, thread, edit, and the app's message shortcuts).
// What a click does is passed in as `handlers`, so this module only draws.

import { renderBlocks } from "./blocks.js";
import { emojiFor, escapeHtml, renderMrkdwn } from "./mrkdwn.js";
import { QUICK_REACTIONS, initials, state, time } from "./util.js";

export const handlers = {
  clickAction: async () => {},
  shortcut: async () => {},
  react: async () => {},
  openThread: () => {},
  editMessage: async () => {},
  deleteMessage: async () => {},
};

// ----- messages ----------------------------------------------------------------------
export function renderMessage(msg, where, statuses) {
  const user = state.dir.users[msg.user] || { name: msg.user, real_name: msg.user, color: "888888" };
  const node = document.createElement("div");
  node.className = `message${msg.is_ephemeral ? " ephemeral" : ""}${msg.bot_id ? " from-bot" : ""}`;
  node.dataset.ts = msg.ts;
  const avatar = `<div class="avatar" style="background:#${escapeHtml(user.color || "888")}">${escapeHtml(initials(user.real_name))}</div>`;
  const badge = msg.bot_id ? '<span class="app-badge">APP</span>' : "";
  const edited = msg.edited ? '<span class="muted"> (edited)</span>' : "";
  const only = msg.is_ephemeral ? '<div class="only-you">👁 Only visible to you</div>' : "";
  node.innerHTML = `${avatar}<div class="body">${only}<div class="meta"><span class="author">${escapeHtml(user.real_name)}</span>${badge}<span class="time">${time(msg.ts)}</span>${edited}</div></div>`;
  const body = node.querySelector(".body");
  const channel = where.channel;
  if (msg.blocks && msg.blocks.length) {
    body.appendChild(renderBlocks(msg.blocks, { dir: state.dir, onAction: (e, b, btn) => handlers.clickAction(channel, msg, e, btn) }));
  } else if (msg.text) {
    const text = document.createElement("div");
    text.className = "text";
    text.innerHTML = renderMrkdwn(msg.text, state.dir);
    body.appendChild(text);
  }
  for (const file of msg.files || []) body.appendChild(renderFile(file));
  if (msg.reactions) body.appendChild(renderReactions(channel, msg));
  if (where.inChannel && msg.reply_count) {
    const link = document.createElement("button");
    link.type = "button";
    link.className = "thread-link";
    link.textContent = `${msg.reply_count} ${msg.reply_count === 1 ? "reply" : "replies"}`;
    link.addEventListener("click", () => handlers.openThread(channel, msg.ts));
    body.appendChild(link);
  }
  const status = statuses && statuses[msg.ts];
  if (where.inChannel && status) body.appendChild(statusLine(status));
  if (!msg.is_ephemeral) node.appendChild(hoverActions(channel, msg, where));
  return node;
}

export function statusLine(status) {
  const div = document.createElement("div");
  div.className = "status-line";
  div.innerHTML = `<span class="dots"></span> switchboard ${escapeHtml(status)}`;
  return div;
}

function renderFile(file) {
  const wrap = document.createElement("div");
  wrap.className = "file";
  if ((file.mimetype || "").startsWith("image/")) {
    wrap.innerHTML = `<a href="${escapeHtml(file.url_private)}" target="_blank" rel="noopener"><img src="${escapeHtml(file.url_private)}" alt="${escapeHtml(file.alt_txt || file.title)}"></a><div class="muted">${escapeHtml(file.title)}</div>`;
  } else {
    wrap.innerHTML = `📎 <a href="${escapeHtml(file.url_private_download)}">${escapeHtml(file.title || file.name)}</a> <span class="muted">${file.size} bytes</span>`;
  }
  return wrap;
}

function renderReactions(channel, msg) {
  const row = document.createElement("div");
  row.className = "reactions";
  for (const r of msg.reactions) {
    const pill = document.createElement("button");
    pill.type = "button";
    pill.className = `reaction${r.users.includes(state.me) ? " mine" : ""}`;
    pill.title = r.users.map((u) => state.dir.users[u]?.name || u).join(", ");
    pill.textContent = `${emojiFor(r.name)} ${r.count}`;
    pill.addEventListener("click", () => handlers.react(channel, msg.ts, r.name, !r.users.includes(state.me)));
    row.appendChild(pill);
  }
  return row;
}

function hoverActions(channel, msg, where) {
  const bar = document.createElement("div");
  bar.className = "hover-actions";
  const add = (label, title, fn) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.title = title;
    b.addEventListener("click", fn);
    bar.appendChild(b);
  };
  for (const name of QUICK_REACTIONS) add(emojiFor(name), `React :${name}:`, () => handlers.react(channel, msg.ts, name, true));
  if (where.inChannel) add("💬", "Reply in thread", () => handlers.openThread(channel, msg.ts));
  if (msg.user === state.me) {
    add("✏️", "Edit", () => handlers.editMessage(channel, msg));
    add("🗑", "Delete", () => handlers.deleteMessage(channel, msg));
  }
  const shortcuts = state.boot?.app?.message_shortcuts || [];
  if (shortcuts.length) add("⋮", "More actions", (ev) => openMenu(ev.currentTarget, channel, msg, shortcuts));
  return bar;
}

// The message's "More actions" menu: the app's message shortcuts, as Slack lists them.
function openMenu(anchor, channel, msg, shortcuts) {
  closeMenus();
  const menu = document.createElement("div");
  menu.className = "menu";
  menu.dataset.testid = "message-menu";
  menu.innerHTML = '<div class="menu-heading">switchboard</div>';
  for (const shortcut of shortcuts) {
    const item = document.createElement("button");
    item.type = "button";
    item.className = "menu-item";
    item.textContent = shortcut.name;
    item.title = shortcut.description || shortcut.name;
    item.addEventListener("click", () => {
      closeMenus();
      handlers.shortcut(channel, msg, shortcut);
    });
    menu.appendChild(item);
  }
  anchor.closest(".message").appendChild(menu);
  setTimeout(() => document.addEventListener("click", closeMenus, { once: true }), 0);
}

function closeMenus() {
  for (const menu of document.querySelectorAll(".menu")) menu.remove();
}

export function renderList(container, messages, where, statuses) {
  const atBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 40;
  container.innerHTML = "";
  if (!messages.length) container.innerHTML = '<div class="empty">No messages yet.</div>';
  for (const msg of messages) container.appendChild(renderMessage(msg, where, statuses));
  if (atBottom || where.forceBottom) container.scrollTop = container.scrollHeight;
}

