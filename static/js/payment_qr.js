// The copy button next to the payment QR's text; without JavaScript the text stays selectable.
document.querySelectorAll("button[data-copy-target]").forEach((button) => {
  button.addEventListener("click", async () => {
    const field = document.getElementById(button.dataset.copyTarget);
    field.select();
    try {
      await navigator.clipboard.writeText(field.value);
    } catch (error) {
      document.execCommand("copy");
    }
    const label = button.textContent;
    button.textContent = button.dataset.copiedLabel;
    setTimeout(() => { button.textContent = label; }, 2000);
  });
});
