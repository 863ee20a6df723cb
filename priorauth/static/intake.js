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

  // Questions with conditions (the definition's enable_when, decided by the rules on
  // saving): shown only while their conditions hold, as the answers on this page change.
  // A fact not on this page counts as holding: the question stays shown, and the rules
  // drop an answer it should not have had. Without this script every question is shown.
  function current(form, fact) {
    var name = fact === "icd10_codes" ? "icd10_codes" : "answers-" + fact;
    if (fact === "sex") { name = "patient-sex"; }
    if (fact === "request_type") { name = "request_type"; }
    var fields = form.querySelectorAll('[name="' + name + '"]');
    if (!fields.length) {
      return undefined;
    }
    var values = [];
    fields.forEach(function (field) {
      if ((field.type === "checkbox" || field.type === "radio") && !field.checked) {
        return;
      }
      if (field.type === "hidden" && fields.length > 1) {
        return;
      }
      if (field.value !== "") {
        values.push(field.value);
      }
    });
    return values;
  }

  function holds(form, condition) {
    var values = current(form, condition.fact);
    if (values === undefined) {
      return true;
    }
    var wanted = Array.isArray(condition.value) ? condition.value.map(String)
      : [String(condition.value)];
    var hit = values.some(function (value) { return wanted.indexOf(value) >= 0; });
    switch (condition.operator) {
      case "exists": return values.length > 0;
      case "=": case "in": return hit;
      case "!=": return values.length > 0 && !hit;
      case ">=": return values.length > 0 && Number(values[0]) >= Number(condition.value);
      case "<=": return values.length > 0 && Number(values[0]) <= Number(condition.value);
      default: return true;
    }
  }

  function questionConditions(form) {
    var questions = form.querySelectorAll("[data-enable-when]");
    if (!questions.length) {
      return;
    }
    function follow() {
      questions.forEach(function (question) {
        var rule = JSON.parse(question.getAttribute("data-enable-when"));
        var results = rule.when.map(function (c) { return holds(form, c); });
        question.hidden = rule.behavior === "any" ? results.indexOf(true) < 0
          : results.indexOf(false) >= 0;
      });
    }
    form.addEventListener("change", follow);
    follow();
  }

  function start() {
    var form = document.getElementById("intake-form");
    if (!form) {
      return;
    }
    heightUnits(form);
    pregnancyFields(form);
    questionConditions(form);
    readiness(form);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
