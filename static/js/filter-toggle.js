// MOJ "filter a list": a button that hides and shows the filter panel. Progressive
// enhancement: without JavaScript the button stays hidden and the panel is always shown.
for (const button of document.querySelectorAll("[data-app-filter-toggle]")) {
  const panel = document.getElementById(button.getAttribute("aria-controls"));
  if (!panel) continue;
  button.hidden = false;
  button.addEventListener("click", () => {
    const open = button.getAttribute("aria-expanded") === "true";
    button.setAttribute("aria-expanded", String(!open));
    panel.hidden = open;
    button.textContent = open ? "Show filters" : "Hide filters";
  });
}
