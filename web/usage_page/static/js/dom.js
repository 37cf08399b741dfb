// Building elements without innerHTML: every value from the API goes in as text.

const SVG = "http://www.w3.org/2000/svg";

/** An HTML element with attributes (`dataset` and `text` understood) and children. */
export function el(tag, attributes = {}, ...children) {
  return build(document.createElement(tag), attributes, children);
}

/** An SVG element, the same way. */
export function svg(tag, attributes = {}, ...children) {
  return build(document.createElementNS(SVG, tag), attributes, children);
}

function build(node, attributes, children) {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  node.append(...children.flat(Infinity).filter((child) => child !== null && child !== undefined));
  return node;
}

/** Replace the children of the element with id `id`. */
export function fill(id, ...children) {
  document.getElementById(id).replaceChildren(...children.flat());
}

/** Set a value element's text and its exact API value (`data-value`, read by tests). */
export function show(id, text, value) {
  const node = document.getElementById(id);
  node.textContent = text;
  node.dataset.value = value === null || value === undefined ? "" : String(value);
}
