// Progressive enhancement only: every form works without JavaScript.
document.addEventListener("submit", (event) => {
  // A double click must not send a form twice. (A form sent by htmx disables its button
  // while the request runs instead: hx-disabled-elt.)
  const form = event.target;
  if (form.hasAttribute("hx-post")) { return; }
  if (form.dataset.submitted === "1") { event.preventDefault(); return; }
  form.dataset.submitted = "1";
  setTimeout(() => { form.dataset.submitted = ""; }, 5000);
});
document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
  select.addEventListener("change", () => select.form.requestSubmit());
});

// Partial updates (htmx, portal/partials.py): the CSRF token goes in the X-CSRFToken header,
// read from the page's meta tag; a refused request shows a message instead of doing nothing.
(function () {
  "use strict";
  const meta = document.querySelector('meta[name="csrf-token"]');
  document.body.addEventListener("htmx:configRequest", (event) => {
    if (meta) { event.detail.headers["X-CSRFToken"] = meta.content; }
  });
  const problem = document.getElementById("partial-error");
  const show = (event) => {
    const source = event.detail.elt;
    if (source && source.hasAttribute("hx-get")) {
      // A status being followed (a statement job): ask again later, whatever went wrong.
      htmx.trigger(source, "poll-again");
      return;
    }
    if (problem) { problem.hidden = false; problem.scrollIntoView({ block: "nearest" }); }
  };
  document.body.addEventListener("htmx:responseError", show);
  document.body.addEventListener("htmx:sendError", show);
  document.body.addEventListener("htmx:afterRequest", (event) => {
    if (problem && event.detail.successful) { problem.hidden = true; }
  });
})();
