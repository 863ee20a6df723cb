/* The first step's choices from the clinic's directory: choosing one fills its fields.
 *
 * Without this script the choice is posted with the step and the server fills the
 * fields that were left empty; with it, the fields fill at once and stay editable.
 * The values come from the page itself (a JSON data block, never run as script).
 */
(function () {
  "use strict";

  function fill(form, values) {
    Object.keys(values).forEach(function (name) {
      var control = form.querySelector('[name="' + name + '"]:not([type="hidden"])');
      if (!control) {
        return;
      }
      control.value = values[name];
      control.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }

  function start() {
    var form = document.getElementById("intake-form");
    var block = document.getElementById("directory-data");
    if (!form || !block) {
      return;
    }
    var data;
    try {
      data = JSON.parse(block.textContent);
    } catch (error) {
      return;
    }
    form.querySelectorAll("[data-directory-choice]").forEach(function (select) {
      var kind = select.getAttribute("data-directory-choice");
      select.addEventListener("change", function () {
        var values = (data[kind] || {})[select.value];
        if (values) {
          fill(form, values);
        }
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
