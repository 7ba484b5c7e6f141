// The app's surfaces on the page: its Home tab (and Messages tab), the assistant side panel,
// the message shortcut menu, and modals the app opens. Each deed is one POST under /ui/, the
// same deeds the scripting API uses, so the app cannot tell a browser from a test.

import { renderBlocks } from "./blocks.js";
import { escapeHtml, renderPlain } from "./mrkdwn.js";
import { handlers, renderList } from "./render.js";
import { $, api, state, toast } from "./util.js";

let openChannel = () => {};
let confirmWith = async () => true;

// ----- the app in the sidebar, its Home and Messages tabs -----------------------------------
export function renderApps() {
  const list = $("app-list");
  list.innerHTML = "";
  const li = document.createElement("li");
  li.className = state.view === "app" ? "active" : "";
  li.dataset.testid = "app-home";
  li.innerHTML = '<span>⚡ switchboard</span><span class="note">app</span>';
  li.addEventListener("click", () => openApp(state.boot.app?.home_tab ? "home" : "messages"));
  list.appendChild(li);
}

function myDm() {
  return state.boot.channels.find((c) => c.kind === "im" && c.im_user === state.me);
}

export async function openApp(tab) {
  state.view = "app";
  state.appTab = tab;
  const tabs = $("app-tabs");
  tabs.classList.remove("hidden");
  for (const button of tabs.querySelectorAll("button")) button.classList.toggle("active", button.dataset.tab === tab);
  if (tab === "messages") {
    openChannel(myDm().id, { keepApp: true });
  } else {
    $("channel-title").textContent = "switchboard";
    $("channel-purpose").textContent = "Home";
    $("home").classList.remove("hidden");
    $("messages").classList.add("hidden");
    $("composer").classList.add("hidden");
    $("home").innerHTML = '<div class="empty">Opening…</div>';
    renderApps();
  }
  await api("/ui/home_opened", { tab }).catch((e) => toast(e.message));
  if (tab === "home") await loadHome();
}

// Back to a channel: the Home view gives way to the message list.
export function leaveApp(keepTabs) {
  if (!keepTabs) {
    state.view = "channel";
    $("app-tabs").classList.add("hidden");
  }
  $("home").classList.add("hidden");
  $("messages").classList.remove("hidden");
  $("composer").classList.remove("hidden");
}

async function loadHome() {
  if (state.view !== "app" || state.appTab !== "home") return;
  const data = await api(`/ui/home?as=${state.me}`);
  const home = $("home");
  home.innerHTML = "";
  if (!data.view) {
    home.innerHTML = '<div class="empty">This app has not published a Home tab for you yet.</div>';
    return;
  }
  const view = data.view;
  home.dataset.viewId = view.id;
  home.appendChild(renderBlocks(view.blocks, { dir: state.dir, onAction: (e, b, btn) => clickInView(view, e, b, btn) }));
}

async function clickInView(view, element, blockId, button) {
  if (element.url) window.open(element.url, "_blank", "noopener");
  if (element.confirm && !(await confirmWith(element.confirm))) return;
  button.classList.add("pending");
  try {
    await api("/ui/view_click", { view_id: view.id, action_id: element.action_id, block_id: blockId });
  } catch (e) {
    toast(e.message);
  } finally {
    button.classList.remove("pending");
  }
}

// ----- modals ---------------------------------------------------------------------------------
async function loadModal() {
  const data = await api(`/ui/modal?as=${state.me}`);
  const modal = $("view-modal");
  const view = data.view;
  if (!view) {
    modal.classList.add("hidden");
    delete modal.dataset.viewId;
    return;
  }
  const same = modal.dataset.viewId === view.id && modal.dataset.hash === view.hash;
  const typed = same ? collectValues() : {};
  modal.dataset.viewId = view.id;
  modal.dataset.hash = view.hash;
  $("view-title").textContent = view.title?.text || "";
  $("view-submit").textContent = view.submit?.text || "Submit";
  $("view-submit").classList.toggle("hidden", !view.submit);
  $("view-close").textContent = view.close?.text || "Cancel";
  const body = $("view-body");
  body.innerHTML = "";
  body.appendChild(renderBlocks(view.blocks, { dir: state.dir, errors: data.errors, onAction: (e, b, btn) => clickInView(view, e, b, btn) }));
  for (const [blockId, actions] of Object.entries(typed)) {
    for (const [actionId, value] of Object.entries(actions)) {
      const field = body.querySelector(`[data-block-id="${CSS.escape(blockId)}"][data-action-id="${CSS.escape(actionId)}"]`);
      if (field) field.value = value;
    }
  }
  const general = data.errors && data.errors[""];
  $("view-error").classList.toggle("hidden", !general);
  $("view-error").textContent = general || "";
  modal.classList.remove("hidden");
  body.querySelector(".input-field")?.focus();
}

function collectValues() {
  const values = {};
  for (const field of $("view-body").querySelectorAll(".input-field")) {
    values[field.dataset.blockId] = { ...(values[field.dataset.blockId] || {}), [field.dataset.actionId]: field.value };
  }
  return values;
}

async function submitModal(ev) {
  ev.preventDefault();
  const viewId = $("view-modal").dataset.viewId;
  if (!viewId) return;
  $("view-submit").classList.add("pending");
  try {
    await api("/ui/view_submit", { view_id: viewId, values: collectValues() });
  } catch (e) {
    toast(e.message);
  } finally {
    $("view-submit").classList.remove("pending");
  }
  await loadModal();
}

async function closeModal() {
  const viewId = $("view-modal").dataset.viewId;
  if (viewId) await api("/ui/view_close", { view_id: viewId }).catch((e) => toast(e.message));
  await loadModal();
}

// ----- message shortcuts ----------------------------------------------------------------------
async function useShortcut(channel, msg, shortcut) {
  try {
    await api("/ui/shortcut", { channel, ts: msg.ts, callback_id: shortcut.callback_id });
    toast(`${shortcut.name}: sent to the app`);
  } catch (e) {
    toast(e.message);
  }
}

// ----- the assistant panel --------------------------------------------------------------------
async function openAssistant() {
  const thread = await api("/ui/assistant_open", { channel: state.channel });
  state.assistant = { channel: thread.channel, ts: thread.thread_ts, context: state.channel };
  $("assistant-panel").classList.remove("hidden");
  await loadAssistant(true);
  $("assistant-input").focus();
}

export function lookingAt(channelId) {
  const open = state.assistant;
  if (!open || open.context === channelId || state.dir.channels[channelId]?.kind === "im") return;
  open.context = channelId;
  api("/ui/assistant_context", { channel: channelId, thread_channel: open.channel, thread_ts: open.ts }).catch(() => {});
}

async function loadAssistant(forceBottom = false) {
  const open = state.assistant;
  if (!open) return;
  const data = await api(`/ui/assistant?channel=${open.channel}&ts=${open.ts}&as=${state.me}`);
  $("assistant-title").textContent = data.title;
  const prompts = $("assistant-prompts");
  prompts.innerHTML = "";
  const spoken = data.messages.some((m) => m.user === state.me);
  if (!spoken && data.prompts.length) {
    if (data.prompts_title) prompts.innerHTML = `<div class="prompts-title">${escapeHtml(data.prompts_title)}</div>`;
    data.prompts.forEach((prompt, index) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "prompt";
      button.innerHTML = `${renderPlain(prompt.title)}<span class="prompt-message">${renderPlain(prompt.message)}</span>`;
      button.addEventListener("click", () => pickPrompt(index));
      prompts.appendChild(button);
    });
  }
  renderList($("assistant-messages"), data.messages, { channel: open.channel, inChannel: false, forceBottom });
  const status = $("assistant-status");
  status.classList.toggle("hidden", !data.status);
  status.innerHTML = data.status ? `<span class="dots"></span> switchboard ${escapeHtml(data.status)}` : "";
}

async function pickPrompt(index) {
  const open = state.assistant;
  await api("/ui/assistant_prompt", { channel: open.channel, ts: open.ts, index }).catch((e) => toast(e.message));
}

async function sendToAssistant(ev) {
  ev.preventDefault();
  const input = $("assistant-input");
  const text = input.value.trim();
  if (!text || !state.assistant) return;
  input.value = "";
  try {
    await api("/ui/post", { channel: state.assistant.channel, text, thread_ts: state.assistant.ts });
  } catch (e) {
    input.value = text;
    toast(e.message);
  }
}

// ----- live updates ---------------------------------------------------------------------------
export function onSurfaceChange(note) {
  if (note.type === "view" && note.user === state.me) {
    loadHome().catch((e) => toast(e.message));
    loadModal().catch((e) => toast(e.message));
  }
  const open = state.assistant;
  if (open && note.channel === open.channel && (note.thread_ts === open.ts || note.ts === open.ts)) {
    loadAssistant().catch((e) => toast(e.message));
  }
}

export function viewerChanged(inApp) {
  state.assistant = null;
  $("assistant-panel").classList.add("hidden");
  loadModal().catch(() => {});
  if (inApp) openApp(state.appTab);
}

export function wireSurfaces(hooks) {
  openChannel = hooks.openChannel;
  confirmWith = hooks.confirm;
  handlers.shortcut = useShortcut;
  const app = state.boot.app || {};
  $("open-assistant").classList.toggle("hidden", !app.assistant);
  $("open-assistant").addEventListener("click", () => openAssistant().catch((e) => toast(e.message)));
  $("close-assistant").addEventListener("click", () => {
    state.assistant = null;
    $("assistant-panel").classList.add("hidden");
  });
  $("assistant-composer").addEventListener("submit", sendToAssistant);
  $("assistant-input").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey) sendToAssistant(ev);
  });
  for (const button of $("app-tabs").querySelectorAll("button")) {
    button.addEventListener("click", () => openApp(button.dataset.tab));
  }
  if (!app.home_tab) $("app-tabs").querySelector('[data-tab="home"]').remove();
  $("view-form").addEventListener("submit", submitModal);
  $("view-close").addEventListener("click", closeModal);
  renderApps();
  loadModal().catch(() => {});
}
