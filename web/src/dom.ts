// Small DOM helpers: element creation, toasts, modal dialogs.

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | EventListener | undefined | null>;

/** `h("button", {class: "x", onclick: f}, "text")`. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = String(v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el: HTMLElement, children: (Child | Child[])[]): void {
  for (const c of children) {
    if (Array.isArray(c)) append(el, c);
    else if (c === null || c === undefined || c === false) continue;
    else el.append(c instanceof Node ? c : String(c));
  }
}

export function $(sel: string): HTMLElement {
  const el = document.querySelector(sel);
  if (!el) throw new Error(`missing element ${sel}`);
  return el as HTMLElement;
}

export function clear(el: HTMLElement): void {
  el.replaceChildren();
}

/** A message in the corner that goes away by itself (errors stay longer). */
export function toast(message: string, kind: "info" | "error" | "ok" = "info"): void {
  const box = document.getElementById("toasts");
  if (!box) return;
  const t = h(
    "div",
    { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : "status" },
    h("span", { class: "toast-text" }, message),
    h("button", { class: "toast-close", title: "Dismiss", onclick: () => t.remove() }, "×"),
  );
  box.append(t);
  setTimeout(() => t.remove(), kind === "error" ? 12000 : 4000);
}

export interface Field {
  name: string;
  label: string;
  value?: string;
  placeholder?: string;
  hint?: string;
  /** Returns an error message, or null when the value is fine. */
  check?: (v: string) => string | null;
  options?: { value: string; label: string }[];
}

/**
 * A modal form. Resolves with the values (and which fields the user
 * changed) or null when cancelled.
 */
export function formDialog(opts: {
  title: string;
  intro?: string;
  fields: Field[];
  submit: string;
  danger?: boolean;
}): Promise<{ values: Record<string, string>; changed: Set<string> } | null> {
  return new Promise((resolve) => {
    const inputs = new Map<string, HTMLInputElement | HTMLSelectElement>();
    const changed = new Set<string>();
    const errors = new Map<string, HTMLElement>();
    const rows = opts.fields.map((f) => {
      const input = f.options
        ? h("select", { name: f.name, id: `f-${f.name}` }, ...f.options.map((o) => h("option", { value: o.value }, o.label)))
        : h("input", {
            name: f.name,
            id: `f-${f.name}`,
            type: "text",
            value: f.value ?? "",
            placeholder: f.placeholder ?? "",
            autocomplete: "off",
            spellcheck: "false",
          });
      if (f.options && f.value) (input as HTMLSelectElement).value = f.value;
      input.addEventListener("input", () => {
        changed.add(f.name);
        errors.get(f.name)!.textContent = "";
      });
      inputs.set(f.name, input);
      const err = h("div", { class: "field-error" });
      errors.set(f.name, err);
      return h(
        "div",
        { class: "field" },
        h("label", { for: `f-${f.name}` }, f.label),
        input,
        f.hint ? h("div", { class: "field-hint" }, f.hint) : null,
        err,
      );
    });
    const dlg = h("dialog", { class: "dialog" });
    const form = h(
      "form",
      { method: "dialog" },
      h("h2", {}, opts.title),
      opts.intro ? h("p", { class: "dialog-intro" }, opts.intro) : null,
      ...rows,
      h(
        "div",
        { class: "dialog-buttons" },
        h("button", { type: "button", class: "btn", value: "cancel", onclick: () => finish(null) }, "Cancel"),
        h("button", { type: "submit", class: opts.danger ? "btn btn-danger" : "btn btn-primary" }, opts.submit),
      ),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const values: Record<string, string> = {};
      let ok = true;
      for (const f of opts.fields) {
        const v = inputs.get(f.name)!.value.trim();
        values[f.name] = v;
        const problem = f.check?.(v) ?? null;
        errors.get(f.name)!.textContent = problem ?? "";
        if (problem) ok = false;
      }
      if (ok) finish({ values, changed });
    });
    dlg.append(form);
    dlg.addEventListener("cancel", (e) => {
      e.preventDefault();
      finish(null);
    });
    let done = false;
    function finish(v: { values: Record<string, string>; changed: Set<string> } | null) {
      if (done) return;
      done = true;
      dlg.close();
      dlg.remove();
      resolve(v);
    }
    document.body.append(dlg);
    dlg.showModal();
    const first = inputs.values().next().value;
    if (first instanceof HTMLInputElement) first.select();
  });
}

/** A yes/no question. */
export async function confirmDialog(title: string, text: string, submit: string): Promise<boolean> {
  return (await formDialog({ title, intro: text, fields: [], submit, danger: true })) !== null;
}
