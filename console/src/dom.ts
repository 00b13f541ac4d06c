// A few lines of DOM building instead of a UI library.
let uniqueCounter = 0;
export const uniqueDomId = (prefix: string) => `${prefix}-${++uniqueCounter}`;

export type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, unknown>;

/** h("button", { class: "primary", onclick: fn, disabled: false }, "Save") */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value as EventListener);
    else if (name === "value" && "value" in el) (el as HTMLInputElement).value = String(value);
    else if (name === "checked" && "checked" in el) (el as HTMLInputElement).checked = value === true;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's content. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** A labelled form field; a hint is the control's description, not part of its name. */
export function field(label: string, control: HTMLElement, hint?: string): HTMLDivElement {
  if (!control.id) control.id = uniqueDomId("field");
  const hintId = hint ? `${control.id}-hint` : undefined;
  if (hintId) control.setAttribute("aria-describedby", [control.getAttribute("aria-describedby"), hintId].filter(Boolean).join(" "));
  return h(
    "div",
    { class: "field" },
    h("label", { class: "label", for: control.id }, label),
    control,
    hint ? h("small", { class: "hint", id: hintId }, hint) : null,
  );
}

export function badge(text: string, tone: string, title?: string): HTMLSpanElement {
  return h("span", { class: `badge ${tone}`, title }, text);
}

/**
 * A modal dialog (<dialog>: focus moves in, Esc closes, the page behind is inert). Resolves with
 * what `body` hands to `close`, or undefined when dismissed.
 */
export function modal<T>(title: string, body: (close: (value?: T) => void) => Child[]): Promise<T | undefined> {
  return new Promise((resolve) => {
    const titleId = uniqueDomId("dialog-title");
    const dialog = h("dialog", { "aria-labelledby": titleId });
    let result: T | undefined;
    const close = (value?: T) => {
      result = value;
      dialog.close();
    };
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(result);
    });
    append(dialog, [h("h2", { id: titleId }, title), ...body(close)]);
    document.body.append(dialog);
    dialog.showModal();
  });
}
