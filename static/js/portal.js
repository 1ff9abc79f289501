// Progressive enhancement only: every form works without JavaScript.
document.addEventListener("submit", (event) => {
  // A double click must not send a form twice.
  const form = event.target;
  if (form.dataset.submitted === "1") { event.preventDefault(); return; }
  form.dataset.submitted = "1";
  setTimeout(() => { form.dataset.submitted = ""; }, 5000);
});
document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
  select.addEventListener("change", () => select.form.requestSubmit());
});
