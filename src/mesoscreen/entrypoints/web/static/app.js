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
  // Nothing typed is lost at the idle timeout. Two minutes before it, a warning offers to stay
  // signed in (a small request that restarts the session's idle time); a form posted after it
  // anyway is kept by the server and filled in again here after sign-in, never submitted.
  var idleSeconds = Number(document.body.getAttribute("data-idle-seconds") || 0);
  var warning = document.getElementById("timeout-warning");
  var stay = document.getElementById("stay-signed-in");
  var WARN_BEFORE_S = 120;
  var warnTimer = null;
  function armWarning(seconds) {
    if (warnTimer !== null) { window.clearTimeout(warnTimer); }
    warnTimer = window.setTimeout(function () {
      warning.hidden = false;
      stay.focus();
    }, Math.max(seconds - WARN_BEFORE_S, 0) * 1000);
  }
  if (idleSeconds > 0 && warning && stay) {
    armWarning(idleSeconds);
    stay.addEventListener("click", function () {
      var csrf = document.querySelector('form[action="/signout"] input[name="csrf"]');
      var body = new URLSearchParams();
      body.set("csrf", csrf ? csrf.value : "");
      fetch("/session/refresh", { method: "POST", body: body, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) { throw new Error("refresh refused"); }
          return response.json();
        })
        .then(function (answer) {
          warning.hidden = true;
          armWarning(Number(answer.idle_seconds) || idleSeconds);
        })
        .catch(function () { /* signed out already: a form sent now is kept by the server */ });
    });
  }
  var kept = document.getElementById("kept-form");
  if (kept) {
    try {
      var data = JSON.parse(kept.textContent);
      var target = document.querySelector('form[action="' + CSS.escape(data.action) + '"]');
      if (target) {
        Object.keys(data.fields).forEach(function (name) {
          var value = data.fields[name];
          target.querySelectorAll('[name="' + CSS.escape(name) + '"]').forEach(function (field) {
            if (field.type === "hidden" || field.type === "file" || field.type === "submit") { return; }
            if (field.type === "radio" || field.type === "checkbox") {
              field.checked = field.value === value;
            } else {
              field.value = value;
            }
            field.dispatchEvent(new Event("change", { bubbles: true }));
          });
        });
        // A browser cannot fill in a file: say next to each file field to choose it again.
        var restored = document.getElementById("form-restored");
        target.querySelectorAll('input[type="file"]').forEach(function (field) {
          var note = document.createElement("p");
          note.className = "warning file-again";
          note.setAttribute("role", "status");
          note.textContent = restored ? restored.getAttribute("data-file-note") : "";
          field.insertAdjacentElement("afterend", note);
        });
        target.scrollIntoView();
      }
    } catch (ignored) { /* nothing to fill in */ }
  }
  // Times typed into the forms are the clinic's local time: tell the server which zone.
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone) {
      document.cookie = "mesoscreen_tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; SameSite=Strict" +
        (location.protocol === "https:" ? "; Secure" : "");
    }
  } catch (ignored) { /* an old browser: the server's zone is used */ }
})();
