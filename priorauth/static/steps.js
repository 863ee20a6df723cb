/* The guided intake's helpers: the indication list filtered as you type, and the regimen
 * filled from the dosing phase chosen.
 *
 * Without this script: the Search button asks the server for the matching indications,
 * and a phase chosen fills its empty regimen fields when the step is saved.
 */
(function () {
  "use strict";

  function filterIndications() {
    var input = document.getElementById("q");
    var items = document.querySelectorAll(".indication-list [data-search]");
    var status = document.getElementById("filter-status");
    if (!input || !items.length) {
      return;
    }
    function apply() {
      var words = input.value.trim().toLowerCase();
      var compact = words.replace(/[^a-z0-9]/g, "");
      var shown = 0;
      items.forEach(function (item) {
        var text = item.getAttribute("data-search");
        var match =
          !words ||
          text.indexOf(words) !== -1 ||
          (compact.length >= 2 && text.replace(/\./g, "").indexOf(compact) !== -1);
        item.hidden = !match;
        if (match) {
          shown += 1;
        }
      });
      if (status) {
        status.textContent = words ? shown + (shown === 1 ? " indication matches." : " indications match.") : "";
      }
    }
    input.addEventListener("input", apply);
  }

  function phaseFillsRegimen() {
    var block = document.getElementById("phase-data");
    var phase = document.querySelector('select[name="regimen-phase"]');
    if (!block || !phase) {
      return;
    }
    var table;
    try {
      table = JSON.parse(block.textContent);
    } catch (error) {
      return;
    }
    phase.addEventListener("change", function () {
      var values = table[phase.value] || {};
      Object.keys(values).forEach(function (name) {
        var control = document.querySelector('[name="' + name + '"]');
        if (control) {
          control.value = values[name];
          control.dispatchEvent(new Event("input", { bubbles: true }));
          control.dispatchEvent(new Event("change", { bubbles: true }));
        }
      });
    });
  }

  function start() {
    filterIndications();
    phaseFillsRegimen();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
