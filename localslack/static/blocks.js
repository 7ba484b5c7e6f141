// Block Kit to DOM: section (text, fields, accessory), header, context, divider, image,
// actions (buttons with style and confirm), input (plain_text_input), rich_text, markdown,
// file. Unknown blocks and elements show as a labelled placeholder, so nothing silently
// disappears.

import { emojiFor, escapeHtml, renderMrkdwn, renderPlain, renderTextObject } from "./mrkdwn.js";

function el(tag, cls, html) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (html !== undefined) node.innerHTML = html;
  return node;
}

function imageSrc(obj) {
  if (obj.image_url) return obj.image_url;
  const file = obj.slack_file || {};
  if (file.url) return file.url;
  if (file.id) return `/files/${encodeURIComponent(file.id)}`;
  return "";
}

function renderImage(src, alt, cls) {
  const img = el("img", cls);
  img.src = src;
  img.alt = alt || "";
  img.loading = "lazy";
  img.onerror = () => {
    const note = el("div", "image-missing", `🖼️ ${escapeHtml(alt || src)}`);
    note.title = src;
    img.replaceWith(note);
  };
  return img;
}

// A button; `ctx.onAction(element, blockId)` runs the click.
function renderButton(element, blockId, ctx) {
  const button = el("button", `btn ${element.style || ""}`.trim(), renderPlain(element.text?.text));
  button.type = "button";
  button.dataset.actionId = element.action_id || "";
  if (element.url) {
    button.title = element.url;
  }
  button.addEventListener("click", () => ctx.onAction(element, blockId, button));
  return button;
}

function renderElement(element, blockId, ctx) {
  switch (element.type) {
    case "button":
      return renderButton(element, blockId, ctx);
    case "image":
      return renderImage(element.image_url || imageSrc(element), element.alt_text, "accessory-image");
    case "overflow":
      return el("span", "element-placeholder", "⋯");
    default: {
      const label = element.placeholder?.text || element.text?.text || element.type;
      const node = el("span", "element-placeholder", escapeHtml(label));
      node.title = `${element.type} (not interactive in localslack)`;
      return node;
    }
  }
}

function renderRichText(block, dir) {
  const out = el("div", "rich-text");
  for (const part of block.elements || []) {
    const inner = (part.elements || []).map((item) => richItem(item, dir)).join("");
    if (part.type === "rich_text_preformatted") out.appendChild(el("pre", "", inner));
    else if (part.type === "rich_text_quote") out.appendChild(el("blockquote", "", inner));
    else if (part.type === "rich_text_list") {
      const list = el(part.style === "ordered" ? "ol" : "ul");
      for (const item of part.elements || []) {
        list.appendChild(el("li", "", (item.elements || []).map((x) => richItem(x, dir)).join("")));
      }
      out.appendChild(list);
    } else out.appendChild(el("div", "", inner));
  }
  return out;
}

function richItem(item, dir) {
  const style = item.style || {};
  let html;
  if (item.type === "text") html = escapeHtml(item.text).replace(/\n/g, "<br>");
  else if (item.type === "link") html = renderMrkdwn(`<${item.url}|${item.text || item.url}>`, dir);
  else if (item.type === "user") html = renderMrkdwn(`<@${item.user_id}>`, dir);
  else if (item.type === "channel") html = renderMrkdwn(`<#${item.channel_id}>`, dir);
  else if (item.type === "usergroup") html = renderMrkdwn(`<!subteam^${item.usergroup_id}>`, dir);
  else if (item.type === "emoji") html = emojiFor(item.name);
  else html = escapeHtml(item.text || "");
  if (style.code) html = `<code>${html}</code>`;
  if (style.bold) html = `<b>${html}</b>`;
  if (style.italic) html = `<i>${html}</i>`;
  if (style.strike) html = `<s>${html}</s>`;
  return html;
}

function renderSection(block, ctx) {
  const node = el("div", "block section");
  const body = el("div", "section-body");
  if (block.text) body.appendChild(el("div", "section-text", renderTextObject(block.text, ctx.dir)));
  if (block.fields) {
    const grid = el("div", "fields");
    for (const field of block.fields) grid.appendChild(el("div", "field", renderTextObject(field, ctx.dir)));
    body.appendChild(grid);
  }
  node.appendChild(body);
  if (block.accessory) {
    const acc = el("div", "accessory");
    acc.appendChild(renderElement(block.accessory, block.block_id, ctx));
    node.appendChild(acc);
  }
  return node;
}

// An input block: its label, a text field named by block_id/action_id, and any error.
function renderInput(block, ctx) {
  const node = el("div", "block input");
  const id = `input-${block.block_id}`;
  const label = el("label", "input-label", renderPlain(block.label?.text));
  label.htmlFor = id;
  node.appendChild(label);
  const element = block.element || {};
  if (element.type !== "plain_text_input") {
    node.appendChild(el("span", "element-placeholder", escapeHtml(element.type || "input")));
    return node;
  }
  const field = document.createElement(element.multiline ? "textarea" : "input");
  field.id = id;
  field.className = "input-field";
  field.dataset.blockId = block.block_id;
  field.dataset.actionId = element.action_id || "";
  field.maxLength = element.max_length || 3000;
  field.placeholder = element.placeholder?.text || "";
  field.value = element.initial_value || "";
  if (element.multiline) field.rows = 3;
  node.appendChild(field);
  if (block.hint) node.appendChild(el("div", "input-hint", renderPlain(block.hint.text)));
  const error = ctx.errors && ctx.errors[block.block_id];
  if (error) node.appendChild(el("div", "field-error", escapeHtml(error)));
  return node;
}

function renderBlock(block, ctx) {
  switch (block.type) {
    case "input":
      return renderInput(block, ctx);
    case "section":
      return renderSection(block, ctx);
    case "header":
      return el("div", "block header", renderPlain(block.text?.text));
    case "divider":
      return el("hr", "block divider");
    case "context": {
      const node = el("div", "block context");
      for (const item of block.elements || []) {
        if (item.type === "image") node.appendChild(renderImage(imageSrc(item), item.alt_text, "context-image"));
        else node.appendChild(el("span", "context-text", renderTextObject(item, ctx.dir)));
      }
      return node;
    }
    case "image": {
      const node = el("figure", "block image");
      if (block.title) node.appendChild(el("figcaption", "", renderPlain(block.title.text)));
      node.appendChild(renderImage(imageSrc(block), block.alt_text, "block-image"));
      return node;
    }
    case "actions": {
      const node = el("div", "block actions");
      for (const element of block.elements || []) node.appendChild(renderElement(element, block.block_id, ctx));
      return node;
    }
    case "rich_text":
      return renderRichText(block, ctx.dir);
    case "markdown":
      return el("div", "block markdown", renderMrkdwn(block.text, ctx.dir));
    case "file":
      return el("div", "block file-block", `📎 file ${escapeHtml(block.external_id || "")}`);
    default:
      return el("div", "block unsupported", `[${escapeHtml(block.type)} block]`);
  }
}

// Render a blocks array into a container element.
export function renderBlocks(blocks, ctx) {
  const root = el("div", "blocks");
  for (const block of blocks) root.appendChild(renderBlock(block, ctx));
  return root;
}
