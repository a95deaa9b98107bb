// The one-line status in the header; errors stay visible for a few seconds.

let timer = null;

export function status(text, isError = false) {
  const el = document.getElementById("status");
  el.textContent = text;
  el.classList.toggle("error", isError);
  clearTimeout(timer);
  if (text && isError) timer = setTimeout(() => status(""), 8000);
}
