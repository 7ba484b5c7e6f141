// The localslack page: pick a demo user, read and write in channels, DMs and threads,
// click Block Kit buttons, run /switchboard; the app's Home tab, assistant panel, message
// shortcuts and modals are in surfaces.js. Live updates come over /ui/live; on each note we
// re-fetch what is on screen, so ephemeral messages stay private to their user.

import { escapeHtml, renderMrkdwn } from "./mrkdwn.js";
import { handlers, renderList } from "./render.js";
import { leaveApp, lookingAt, onSurfaceChange, renderApps, viewerChanged, wireSurfaces } from "./surfaces.js";
import { $, api, state, toast } from "./util.js";

// ----- sidebar -----------------------------------------------------------------------
function renderSidebar() {
  const { boot } = state;
  const viewer = $("viewer");
  viewer.innerHTML = "";
  for (const user of boot.users.filter((u) => !u.is_bot)) {
    const opt = document.createElement("option");
    opt.value = user.id;
    opt.textContent = `${user.real_name} (@${user.name})`;
    viewer.appendChild(opt);
  }
  viewer.value = state.me;
  $("viewer-title").textContent = state.dir.users[state.me]?.title || "";
  const channels = boot.channels.filter((c) => c.kind !== "im" && c.members.includes(state.me));
  fillNav($("channel-list"), channels, (c) => `# ${c.name}`, (c) => (c.members.includes(boot.bot.user_id) ? "" : "no bot"));
  const dms = boot.channels.filter((c) => c.kind === "im" && c.im_user === state.me);
  fillNav($("dm-list"), dms, () => "● switchboard", () => "app");
  const groups = $("group-list");
  groups.innerHTML = "";
  for (const group of boot.usergroups) {
    const li = document.createElement("li");
    const names = group.users.map((u) => state.dir.users[u]?.name).join(", ");
    li.innerHTML = `<span>@${escapeHtml(group.handle)}</span> <span class="muted">${escapeHtml(names)}</span>`;
    groups.appendChild(li);
  }
  renderApps();
}

function fillNav(list, channels, label, note) {
  list.innerHTML = "";
  for (const channel of channels) {
    const li = document.createElement("li");
    li.className = channel.id === state.channel ? "active" : "";
    li.dataset.channel = channel.id;
    const unread = state.unread[channel.id] ? `<span class="badge">${state.unread[channel.id]}</span>` : "";
    const extra = note(channel) ? `<span class="note">${note(channel)}</span>` : "";
    li.innerHTML = `<span>${escapeHtml(label(channel))}</span>${extra}${unread}`;
    li.addEventListener("click", () => openChannel(channel.id));
    list.appendChild(li);
  }
}

// ----- loading what is on screen -----------------------------------------------------
async function loadChannel(forceBottom = false) {
  if (!state.channel) return;
  const data = await api(`/ui/messages?channel=${state.channel}&as=${state.me}`);
  renderList($("messages"), data.messages, { channel: state.channel, inChannel: true, forceBottom }, data.statuses);
}

async function loadThread(forceBottom = false) {
  if (!state.thread) return;
  const { channel, ts } = state.thread;
  const data = await api(`/ui/thread?channel=${channel}&ts=${ts}&as=${state.me}`);
  renderList($("thread-messages"), data.messages, { channel, inChannel: false, forceBottom });
  const status = $("thread-status");
  status.classList.toggle("hidden", !data.status);
  status.innerHTML = data.status ? `<span class="dots"></span> switchboard ${escapeHtml(data.status)}` : "";
}

function openChannel(id, opts = {}) {
  leaveApp(opts.keepApp);
  lookingAt(id);
  state.channel = id;
  state.unread[id] = 0;
  localStorage.setItem("localslack.channel", id);
  const channel = state.dir.channels[id];
  const isDm = channel.kind === "im";
  const botIn = channel.members.includes(state.boot.bot.user_id);
  $("channel-title").textContent = opts.keepApp ? "switchboard" : isDm ? "switchboard (DM)" : `# ${channel.name}`;
  $("channel-purpose").textContent = isDm ? "Direct messages with the bot" : `${channel.purpose || ""}${botIn ? "" : " · the bot is not in this channel"}`;
  $("composer-input").placeholder = isDm ? "Message switchboard" : `Message #${channel.name}`;
  renderSidebar();
  loadChannel(true).catch((e) => toast(e.message));
}

function openThread(channel, ts) {
  state.thread = { channel, ts };
  $("thread-panel").classList.remove("hidden");
  $("thread-channel").textContent = `#${state.dir.channels[channel]?.name || channel}`;
  loadThread(true).catch((e) => toast(e.message));
}

// ----- doing things ------------------------------------------------------------------
// Turn "@alice", "@switchboard", "@support-leads" and "#billing" into Slack's <...> syntax.
function encodeMentions(text) {
  const byName = {};
  for (const u of Object.values(state.dir.users)) byName[u.name] = `<@${u.id}>`;
  for (const g of Object.values(state.dir.groups)) byName[g.handle] = `<!subteam^${g.id}>`;
  const channels = {};
  for (const c of Object.values(state.dir.channels)) if (c.kind !== "im") channels[c.name] = `<#${c.id}>`;
  return text
    .replace(/(^|\s)@([a-z0-9._-]+)/gi, (m, pre, name) => (byName[name] ? pre + byName[name] : m))
    .replace(/(^|\s)#([a-z0-9_-]+)/gi, (m, pre, name) => (channels[name] ? pre + channels[name] : m))
    .replace(/(^|\s)@(here|channel)\b/g, "$1<!$2>");
}

async function send(text, threadTs) {
  const trimmed = text.trim();
  if (!trimmed) return;
  if (trimmed.startsWith("/")) {
    const [command, ...rest] = trimmed.split(/\s+/);
    if (command !== state.boot.slash_command) {
      toast(`${command} is not a command here. Try ${state.boot.slash_command}.`);
      return;
    }
    await api("/ui/command", { channel: state.channel, command, text: rest.join(" ") });
    return;
  }
  await api("/ui/post", { channel: threadTs ? state.thread.channel : state.channel, text: encodeMentions(trimmed), thread_ts: threadTs || null });
}

function showConfirm(confirm) {
  return new Promise((resolve) => {
    $("confirm-title").textContent = confirm.title?.text || "Are you sure?";
    $("confirm-text").innerHTML = renderMrkdwn(confirm.text?.text || "", state.dir);
    $("confirm-ok").textContent = confirm.confirm?.text || "Confirm";
    $("confirm-deny").textContent = confirm.deny?.text || "Cancel";
    $("confirm-ok").className = `btn ${confirm.style === "danger" ? "danger" : "primary"}`;
    const modal = $("confirm");
    modal.classList.remove("hidden");
    const done = (answer) => {
      modal.classList.add("hidden");
      $("confirm-ok").onclick = null;
      $("confirm-deny").onclick = null;
      resolve(answer);
    };
    $("confirm-ok").onclick = () => done(true);
    $("confirm-deny").onclick = () => done(false);
  });
}

async function clickAction(channel, msg, element, button) {
  if (element.url) window.open(element.url, "_blank", "noopener");
  if (element.confirm && !(await showConfirm(element.confirm))) return;
  button.classList.add("pending");
  try {
    await api("/ui/click", { channel, ts: msg.ts, action_id: element.action_id });
  } catch (e) {
    toast(e.message);
  } finally {
    button.classList.remove("pending");
  }
}

async function react(channel, ts, name, add) {
  await api("/ui/react", { channel, ts, name, add }).catch((e) => toast(e.message));
}

async function editMessage(channel, msg) {
  const text = prompt("Edit message", msg.text);
  if (text !== null && text !== msg.text) await api("/ui/edit", { channel, ts: msg.ts, text }).catch((e) => toast(e.message));
}

async function deleteMessage(channel, msg) {
  if (confirm("Delete this message?")) await api("/ui/delete", { channel, ts: msg.ts }).catch((e) => toast(e.message));
}

function wireComposer(form, input, threadTs) {
  const submit = async () => {
    const text = input.value;
    input.value = "";
    try {
      await send(text, threadTs());
    } catch (e) {
      input.value = text;
      toast(e.message);
    }
  };
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submit();
  });
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey) {
      ev.preventDefault();
      submit();
    }
  });
}

// ----- deliveries panel --------------------------------------------------------------
async function loadDeliveries() {
  if ($("delivery-panel").classList.contains("hidden")) return;
  const data = await api("/ui/deliveries");
  $("delivery-transport").textContent = `Sending: ${data.transport}`;
  $("delivery-list").innerHTML = data.deliveries.map((d) => {
    const tries = d.attempts.map((a) => `${a.via}#${a.n}: ${a.error || a.status || "…"}`).join(" · ");
    return `<div class="delivery ${d.state}"><div><b>${escapeHtml(d.type || d.kind)}</b> <span class="state">${d.state}</span></div><div class="muted">${escapeHtml(d.id)}</div><div class="muted">${escapeHtml(tries)}</div></div>`;
  }).join("") || '<div class="empty">Nothing sent yet.</div>';
}

// ----- live feed ---------------------------------------------------------------------
function connectLive(delay = 500) {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  const sock = new WebSocket(`${proto}://${location.host}/ui/live`);
  sock.onopen = () => {
    $("live-state").textContent = "● live";
    $("live-state").className = "live-state on";
    delay = 500;
  };
  sock.onmessage = (ev) => onChange(JSON.parse(ev.data));
  sock.onclose = () => {
    $("live-state").textContent = "reconnecting…";
    $("live-state").className = "live-state";
    setTimeout(() => connectLive(Math.min(delay * 2, 5000)), delay);
  };
}

let pending = null;
function onChange(note) {
  if (note.type === "message" && note.channel !== state.channel && !note.thread_ts && note.user !== state.me) {
    state.unread[note.channel] = (state.unread[note.channel] || 0) + 1;
    renderSidebar();
  }
  onSurfaceChange(note);
  pending = pending || { channel: false, thread: false };
  if (note.channel === state.channel) pending.channel = true;
  if (state.thread && note.channel === state.thread.channel && (note.thread_ts === state.thread.ts || note.ts === state.thread.ts)) pending.thread = true;
  queueMicrotask(flush);
}

function flush() {
  if (!pending) return;
  const { channel, thread } = pending;
  pending = null;
  if (channel) loadChannel().catch((e) => toast(e.message));
  if (thread) loadThread().catch((e) => toast(e.message));
  loadDeliveries().catch(() => {});
}

Object.assign(handlers, { clickAction, react, openThread, editMessage, deleteMessage });

// ----- start -------------------------------------------------------------------------
async function start() {
  const boot = await api("/ui/bootstrap");
  state.boot = boot;
  for (const u of boot.users) state.dir.users[u.id] = u;
  for (const c of boot.channels) state.dir.channels[c.id] = c;
  for (const g of boot.usergroups) state.dir.groups[g.id] = g;
  if (!state.dir.users[state.me] || state.dir.users[state.me].is_bot) state.me = boot.users.find((u) => !u.is_bot).id;
  state.dir.me = state.me;
  $("team-name").textContent = boot.team.name;
  $("slash-hint").textContent = `${boot.slash_command} help`;
  const link = location.pathname.match(/^\/archives\/([A-Z0-9]+)\/p(\d+)/);
  if (link) state.channel = link[1];
  if (!state.dir.channels[state.channel]) state.channel = boot.channels.find((c) => c.kind === "channel").id;
  $("viewer").addEventListener("change", (ev) => {
    state.me = ev.target.value;
    state.dir.me = state.me;
    localStorage.setItem("localslack.viewer", state.me);
    const channel = state.dir.channels[state.channel];
    if (channel.kind === "im") state.channel = boot.channels.find((c) => c.kind === "im" && c.im_user === state.me).id;
    const inApp = state.view === "app";
    openChannel(state.channel);
    loadThread().catch(() => {});
    viewerChanged(inApp);
  });
  $("close-thread").addEventListener("click", () => {
    state.thread = null;
    $("thread-panel").classList.add("hidden");
  });
  $("toggle-deliveries").addEventListener("click", () => {
    $("delivery-panel").classList.toggle("hidden");
    loadDeliveries().catch((e) => toast(e.message));
  });
  $("close-deliveries").addEventListener("click", () => $("delivery-panel").classList.add("hidden"));
  wireSurfaces({ openChannel, confirm: showConfirm });
  wireComposer($("composer"), $("composer-input"), () => null);
  wireComposer($("thread-composer"), $("thread-input"), () => state.thread && state.thread.ts);
  openChannel(state.channel);
  if (link) {
    const thread = new URLSearchParams(location.search).get("thread_ts");
    openThread(link[1], thread || `${link[2].slice(0, -6)}.${link[2].slice(-6)}`);
  }
  connectLive();
}

start().catch((e) => toast(`Could not start: ${e.message}`));
