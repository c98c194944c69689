/* The draft procedure page: body-map clicks add injection rows, quick picks fill agent, strength and lot.
   Plain script over Django's inline rows (inlines.js adds and numbers them); nothing here saves. */
(function () {
  "use strict";
  const PREFIX = "injections";

  function group() { return document.getElementById(PREFIX + "-group"); }
  function rows() {
    const g = group();
    return g ? Array.from(g.querySelectorAll("tr.form-row:not(.empty-form)")) : [];
  }
  function field(row, name) { return row.querySelector("[name$='-" + name + "']"); }
  function fire(el) { el.dispatchEvent(new Event("change", { bubbles: true })); }
  function set(el, value) { if (el && !el.disabled) { el.value = value; fire(el); } }

  function rowFor(siteId) {
    return rows().find((row) => { const s = field(row, "site"); return s && s.value === String(siteId); });
  }

  function newRow() {
    const blank = rows().find((row) => { const s = field(row, "site"); return s && !s.value && !row.classList.contains("has_original"); });
    if (blank) return blank;
    const add = group().querySelector(".add-row a");
    if (!add) return null;
    add.click();
    const template = document.getElementById(PREFIX + "-empty");
    return template ? template.previousElementSibling : null;
  }

  const OTHER = { left: "right", right: "left" };

  /* A click on a muscle: add the site on that side; the other side of a site already listed makes it
     bilateral; the same side again takes that side off an unsaved row. */
  function pick(region) {
    const site = region.dataset.site, side = region.dataset.side;
    let row = rowFor(site);
    if (!row) {
      row = newRow();
      if (!row) return;
      set(field(row, "site"), site);
      set(field(row, "laterality"), side);
    } else {
      const lat = field(row, "laterality");
      if (lat.value === OTHER[side]) set(lat, "bilateral");
      else if (lat.value === "bilateral") set(lat, OTHER[side]);
      else if (lat.value === side && !row.classList.contains("has_original")) {
        const remove = row.querySelector(".inline-deletelink");
        if (remove) remove.click(); else { set(field(row, "site"), ""); set(lat, ""); }
      } else if (!lat.value) set(lat, side);
    }
    const volume = field(row, "anaesthetic_volume_ml");
    if (volume && region.dataset.focusVolume !== "no") volume.focus({ preventScroll: true });
    mark();
  }

  function mark() {
    const picked = {};
    rows().forEach((row) => {
      const s = field(row, "site"), lat = field(row, "laterality");
      if (!s || !s.value) return;
      const side = lat ? lat.value : "";
      const sides = side === "bilateral" || side === "midline" ? ["left", "right"] : [side];
      sides.forEach((one) => { picked[s.value + ":" + one] = true; });
    });
    document.querySelectorAll(".body-map .bm-region[data-site]").forEach((region) => {
      const on = !!picked[region.dataset.site + ":" + region.dataset.side];
      region.classList.toggle("bm-picked", on);
      region.setAttribute("aria-pressed", on ? "true" : "false");
    });
  }

  function summary(row) {
    const details = row.querySelector(".injection-details summary");
    if (!details || !field(row, "anaesthetic_agent")) return;  // a read-only row keeps the page's summary
    const parts = [];
    const dry = field(row, "dry_needling");
    if (dry && dry.checked) parts.push("Dry needling");
    const agent = field(row, "anaesthetic_agent");
    if (agent && agent.value) {
      const conc = field(row, "anaesthetic_concentration_percent");
      parts.push(agent.options[agent.selectedIndex].text + (conc && conc.value ? " " + conc.value + "%" : ""));
    }
    const lot = field(row, "lot_number");
    if (lot && lot.value) parts.push("lot " + lot.value);
    const gauge = field(row, "needle_gauge");
    if (gauge && gauge.value) parts.push(gauge.value + " G");
    details.textContent = parts.length ? parts.join(" · ") : "Details";
  }

  function defaultsPlaceholders() {
    const dv = document.querySelector("[name='defaults-anaesthetic_volume_ml']");
    rows().forEach((row) => {
      const v = field(row, "anaesthetic_volume_ml");
      if (v) { v.placeholder = dv && dv.value ? dv.value : ""; v.title = dv && dv.value ? "Empty: the default, " + dv.value + " mL" : ""; }
      summary(row);
    });
  }

  document.addEventListener("click", (event) => {
    const region = event.target.closest(".body-map .bm-region[data-site]");
    if (region) { event.preventDefault(); pick(region); return; }
    const stock = event.target.closest("button.stock-default");
    if (stock) {
      event.preventDefault();
      set(document.querySelector("[name='defaults-anaesthetic_agent']"), stock.dataset.agent);
      set(document.querySelector("[name='defaults-anaesthetic_concentration_percent']"), stock.dataset.concentration);
      set(document.querySelector("[name='defaults-lot_number']"), stock.dataset.lot);
      document.querySelectorAll("button.stock-default").forEach((b) => b.setAttribute("aria-pressed", b === stock ? "true" : "false"));
    }
  });
  document.addEventListener("keydown", (event) => {
    const region = event.target.closest && event.target.closest(".body-map .bm-region[data-site]");
    if (region && (event.key === "Enter" || event.key === " ")) { event.preventDefault(); pick(region); }
  });
  document.addEventListener("change", (event) => {
    const target = event.target;
    if (target.classList.contains("stock-lot")) {
      const row = target.closest("tr.form-row");
      const option = target.options[target.selectedIndex];
      if (row && option.value) {
        set(field(row, "anaesthetic_agent"), option.dataset.agent);
        set(field(row, "anaesthetic_concentration_percent"), option.dataset.concentration);
        set(field(row, "lot_number"), option.value);
      }
      return;
    }
    const row = target.closest && target.closest("tr.form-row");
    if (row) { summary(row); mark(); }
    if (target.name && target.name.indexOf("defaults-") === 0) defaultsPlaceholders();
  });
  document.addEventListener("formset:added", () => defaultsPlaceholders());
  document.addEventListener("formset:removed", () => mark());
  document.addEventListener("DOMContentLoaded", () => { mark(); defaultsPlaceholders(); });
})();
