// The patient draws a signature on the canvas; on submit the drawing goes into a hidden field
// as a PNG data URL. Without scripts the drawn option stays disabled and the typed name works.
(function () {
  "use strict";
  var canvas = document.getElementById("signature-pad");
  if (!canvas) { return; }
  var form = canvas.closest("form");
  var field = document.getElementById("signature_png");
  var drawn = document.getElementById("method-drawn");
  var clear = document.getElementById("signature-clear");
  var context = canvas.getContext("2d");
  var drawing = false;
  var inked = false;
  drawn.disabled = false;
  canvas.hidden = false;
  clear.hidden = false;
  context.lineWidth = 2.5;
  context.lineCap = "round";
  context.strokeStyle = "#111";

  function at(event) {
    var box = canvas.getBoundingClientRect();
    return {
      x: (event.clientX - box.left) * (canvas.width / box.width),
      y: (event.clientY - box.top) * (canvas.height / box.height)
    };
  }
  canvas.addEventListener("pointerdown", function (event) {
    drawing = true;
    canvas.setPointerCapture(event.pointerId);
    var p = at(event);
    context.beginPath();
    context.moveTo(p.x, p.y);
    drawn.checked = true;
    event.preventDefault();
  });
  canvas.addEventListener("pointermove", function (event) {
    if (!drawing) { return; }
    var p = at(event);
    context.lineTo(p.x, p.y);
    context.stroke();
    inked = true;
  });
  function stop() { drawing = false; }
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);
  clear.addEventListener("click", function () {
    context.clearRect(0, 0, canvas.width, canvas.height);
    inked = false;
    field.value = "";
  });
  form.addEventListener("submit", function () {
    field.value = drawn.checked && inked ? canvas.toDataURL("image/png") : "";
  });
})();
