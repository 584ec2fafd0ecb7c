// Small conveniences; every form also works without scripts.
(function () {
  "use strict";
  // The language list submits itself; its button is only needed without scripts.
  document.querySelectorAll("[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  document.querySelectorAll("[data-hidden-with-script]").forEach(function (element) {
    element.hidden = true;
  });
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
  // Times typed into the forms are the clinic's local time: tell the server which zone.
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone) {
      document.cookie = "mesoscreen_tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; SameSite=Strict" +
        (location.protocol === "https:" ? "; Secure" : "");
    }
  } catch (ignored) { /* an old browser: the server's zone is used */ }
})();
