/* The intake form's live readiness checklist, and the height typed in feet and inches.
 *
 * Without this script the form works the same: the checklist is the one the
 * server drew when the page was saved, and both height boxes are shown. With it,
 * the form's values are posted (CSRF token included) to the readiness endpoint
 * a moment after each change, and the checklist is replaced without a reload;
 * the status line above it is a live region, so the verdict is announced.
 * Loaded from the app itself: the pages allow no inline script.
 */
(function () {
  "use strict";

  var DELAY_MS = 450;

  function heightUnits(form) {
    var unit = form.querySelector('select[name="measurements-height_unit"]');
    if (!unit) {
      return;
    }
    var single = form.querySelector('[data-height-mode="single"]');
    var feet = form.querySelector('[data-height-mode="feet"]');
    function show() {
      var inFeet = unit.value === "ft_in";
      if (single) {
        single.hidden = inFeet;
      }
      if (feet) {
        feet.hidden = !inFeet;
      }
    }
    unit.addEventListener("change", show);
    show();
  }

  function readiness(form) {
    var url = form.getAttribute("data-readiness-url");
    var status = document.getElementById("readiness-status");
    var body = document.getElementById("readiness-body");
    var panel = document.getElementById("readiness");
    if (!url || !status || !body || !panel || !window.fetch || !window.FormData) {
      return;
    }
    var timer = null;
    var sent = 0;

    function refresh() {
      var data = new FormData(form);
      data.delete("action");
      sent += 1;
      var mine = sent;
      panel.setAttribute("aria-busy", "true");
      window
        .fetch(url, {
          method: "POST",
          body: data,
          credentials: "same-origin",
          headers: { Accept: "application/json" }
        })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("readiness " + response.status);
          }
          return response.json();
        })
        .then(function (result) {
          if (mine !== sent) {
            return; // a newer check is on its way
          }
          body.innerHTML = result.html;
          panel.setAttribute("data-state", result.state);
          if (status.textContent !== result.summary) {
            status.textContent = result.summary;
          }
        })
        .catch(function () {
          // Keep the last checklist: saving checks everything again anyway.
        })
        .then(function () {
          if (mine === sent) {
            panel.removeAttribute("aria-busy");
          }
        });
    }

    function later() {
      if (timer !== null) {
        window.clearTimeout(timer);
      }
      timer = window.setTimeout(refresh, DELAY_MS);
    }

    form.addEventListener("input", later);
    form.addEventListener("change", later);
  }

  // The pregnancy fields are asked of female patients only: where the sex is chosen
  // on the same page (the one-page form), they follow it as it changes.
  function pregnancyFields(form) {
    var sex = form.querySelector('select[name="patient-sex"]');
    var group = form.querySelector("[data-pregnancy-fields]");
    if (!sex || !group) {
      return;
    }
    function follow() {
      group.hidden = sex.value === "male";
    }
    sex.addEventListener("change", follow);
    follow();
  }

  function start() {
    var form = document.getElementById("intake-form");
    if (!form) {
      return;
    }
    heightUnits(form);
    pregnancyFields(form);
    readiness(form);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
