// Progressive enhancement only: hide the questions that do not apply and are not answered.
// A question applies unless its condition is definitely false (an unanswered one keeps it).
// An answer already given stays shown and is sent, with a note: the server uses or reports
// every answer (a man's "pregnant: yes" is a contradiction to resolve, never dropped here).
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
  function answered(block) {
    return Array.prototype.some.call(block.querySelectorAll("input, textarea"), function (input) {
      if (input.type === "radio") { return input.checked; }
      return input.value.trim() !== "";
    });
  }
  function reads(rule) {
    if (rule.fact) { return [rule.fact]; }
    if (rule.not) { return reads(rule.not); }
    return [].concat.apply([], (rule.all || rule.any || []).map(reads));
  }
  function update() {
    // As the engine decides (domain/screening.py): a question does not apply when its
    // condition is false or when it follows up a question that does not apply (a man is
    // not asked when breastfeeding ended). Questions come after the ones they depend on.
    var off = {};
    form.querySelectorAll("[data-applies]").forEach(function (block) {
      var rule = JSON.parse(block.getAttribute("data-applies"));
      var notApplicable = definitelyFalse(rule) ||
        reads(rule).some(function (fact) { return off[fact]; });
      off[block.id.replace(/^q-/, "")] = notApplicable;
      var hidden = notApplicable && !answered(block);
      block.hidden = hidden;
      block.classList.toggle("not-applicable", notApplicable && !hidden);
      var note = block.querySelector(".not-applicable-note");
      if (note) { note.hidden = !(notApplicable && !hidden); }
      block.querySelectorAll("input, textarea").forEach(function (input) {
        input.disabled = hidden;
      });
    });
  }
  form.addEventListener("change", update);
  update();
})();
