// The profile's practice picker: a combobox (WAI-ARIA "list autocomplete")
// that searches the NHS practice list on the server as the member types,
// and on a choice fills in the ODS code, the PCN and the ICB fields.
// Without this script the page links to the search page instead.
document.addEventListener("DOMContentLoaded", function () {
  var picker = document.querySelector("[data-practice-picker]");
  if (!picker || !window.fetch) {
    return;
  }
  var form = picker.closest("form");
  var input = picker.querySelector("[role=combobox]");
  var list = picker.querySelector("[role=listbox]");
  var status = picker.querySelector("[data-picker-status]");
  var url = picker.getAttribute("data-search-url");
  var codeField = form.querySelector("[name=ods_code]");
  var pcnField = form.querySelector("[name=pcn_name]");
  var boardField = form.querySelector("[name=care_board]");
  var results = [];
  var active = -1;
  var timer = null;
  var asked = "";

  picker.querySelector("[data-picker-fallback]").hidden = true;
  picker.querySelector("[data-picker-enhanced]").hidden = false;

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function highlight(index) {
    var options = list.querySelectorAll("[role=option]");
    options.forEach(function (option, i) {
      option.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    active = index;
    if (index >= 0) {
      input.setAttribute("aria-activedescendant", options[index].id);
      options[index].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function show(found, message) {
    results = found;
    list.textContent = "";
    found.forEach(function (practice, i) {
      var option = document.createElement("li");
      option.id = "practice-option-" + i;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.className = "combobox__option";
      option.textContent = practice.label;
      if (practice.pcn) {
        var pcn = document.createElement("span");
        pcn.className = "combobox__detail";
        pcn.textContent = "PCN: " + practice.pcn;
        option.appendChild(pcn);
      }
      option.addEventListener("mousedown", function (event) {
        event.preventDefault(); // keep focus in the box
      });
      option.addEventListener("click", function () {
        choose(i);
      });
      list.appendChild(option);
    });
    if (found.length) {
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    } else {
      close();
    }
    status.textContent = message;
  }

  function choose(index) {
    var practice = results[index];
    if (!practice) {
      return;
    }
    codeField.value = practice.code;
    if (pcnField && practice.pcn) {
      pcnField.value = practice.pcn;
    }
    if (boardField && practice.care_board) {
      boardField.value = String(practice.care_board);
    }
    input.value = practice.name;
    close();
    var filled = ["ODS code " + practice.code];
    if (practice.pcn) {
      filled.push("PCN " + practice.pcn);
    }
    if (practice.icb) {
      filled.push("ICB " + practice.icb);
    }
    status.textContent = "Chosen: " + practice.label + ". Filled in: " + filled.join(", ") + ".";
  }

  function search() {
    var query = input.value.trim();
    if (query.length < 2) {
      show([], query.length ? "Type at least 2 letters or numbers." : "");
      return;
    }
    if (query === asked) {
      return;
    }
    asked = query;
    fetch(url + "?format=json&q=" + encodeURIComponent(query), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.json();
      })
      .then(function (answer) {
        if (input.value.trim() !== query) {
          return; // a later search is on its way
        }
        if (answer.error) {
          show([], answer.error);
          return;
        }
        var count = answer.results.length;
        show(
          answer.results,
          count
            ? count + " practice" + (count === 1 ? "" : "s") + " found: use the arrow keys to choose."
            : "No practices found. You can still type the ODS code below."
        );
      })
      .catch(function () {
        asked = "";
        show([], "The search is not answering. Type the ODS code below instead.");
      });
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(search, 250);
  });

  input.addEventListener("keydown", function (event) {
    var open = !list.hidden && results.length;
    if (event.key === "ArrowDown") {
      event.preventDefault();
      if (!open && results.length) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
      }
      highlight(Math.min(active + 1, results.length - 1));
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      highlight(Math.max(active - 1, 0));
    } else if (event.key === "Enter") {
      if (open && active >= 0) {
        event.preventDefault(); // choose, do not submit the profile
        choose(active);
      } else if (open) {
        event.preventDefault();
      }
    } else if (event.key === "Escape") {
      if (open) {
        event.preventDefault();
        close();
      }
    }
  });

  input.addEventListener("blur", function () {
    window.setTimeout(close, 150);
  });
});
