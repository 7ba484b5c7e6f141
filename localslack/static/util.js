// Shared page state and small helpers: the viewer, the directory of names, API calls.

export const $ = (id) => document.getElementById(id);
export const QUICK_REACTIONS = ["eyes", "white_check_mark", "thumbsup"];

export const state = {
  boot: null,
  me: localStorage.getItem("localslack.viewer") || "",
  channel: localStorage.getItem("localslack.channel") || "",
  thread: null, // {channel, ts}
  unread: {},
  dir: { users: {}, channels: {}, groups: {}, me: "" },
};

export async function api(path, body) {
  const init = body === undefined ? {} : {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ as: state.me, ...body }),
  };
  const resp = await fetch(path, init);
  const data = await resp.json();
  if (!resp.ok || data.ok === false) throw new Error(data.error || resp.statusText);
  return data;
}

export function toast(text) {
  const node = $("toast");
  node.textContent = text;
  node.classList.remove("hidden");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => node.classList.add("hidden"), 4000);
}

export function time(ts) {
  const d = new Date(Number(ts) * 1000);
  return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function initials(name) {
  return (name || "?").split(/\s+/).map((p) => p[0]).join("").slice(0, 2).toUpperCase();
}

