// Progressive enhancement only: hide questions that do not apply, as the server ignores them.
// A question applies unless its condition is definitely false (an unanswered one keeps it).
(function () {
  "use strict";
  var form = document.getElementById("intake");
  if (!form) { return; }
  function answer(name) {
    var checked = form.querySelector('input[name="' + name + '"]:checked');
    return checked ? checked.value : null;
  }
  function definitelyFalse(rule) {
    if (rule.fact) {
      var value = answer(rule.fact);
      if (value === null || value === "unknown") { return false; }
      return rule.is.indexOf(value) < 0;
    }
    if (rule.not) { return definitelyTrue(rule.not); }
    if (rule.all) { return rule.all.some(definitelyFalse); }
    if (rule.any) { return rule.any.every(definitelyFalse); }
    return false;
  }
  function definitelyTrue(rule) {
    if (rule.fact) {
      var value = answer(rule.fact);
      return value !== null && rule.is.indexOf(value) >= 0;
    }
    if (rule.not) { return definitelyFalse(rule.not); }
    if (rule.all) { return rule.all.every(definitelyTrue); }
    if (rule.any) { return rule.any.some(definitelyTrue); }
    return false;
  }
  function update() {
    form.querySelectorAll("[data-applies]").forEach(function (block) {
      var hidden = definitelyFalse(JSON.parse(block.getAttribute("data-applies")));
      block.hidden = hidden;
      block.querySelectorAll("input, textarea").forEach(function (input) {
        input.disabled = hidden;
      });
    });
  }
  form.addEventListener("change", update);
  update();
})();
