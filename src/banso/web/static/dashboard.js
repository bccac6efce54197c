// Draws the dashboard's ECharts charts from the JSON the server embedded in the page.
(function () {
  "use strict";
  var lang = document.documentElement.lang || "en";
  // Series colours by the figure's key, never by its translated name (or its position after a
  // sort), so a line keeps its colour in both languages.
  var COLOURS = { nrr_12m: "#1f6f8b", grr_12m: "#1b7f3b",
                  mrr_churn_rate: "#b3261e", renewal_churn_rate: "#a86b00" };
  var percentFormat = new Intl.NumberFormat(lang, { style: "percent", minimumFractionDigits: 1,
                                                    maximumFractionDigits: 2 });
  var percent = function (v) { return v === null || v === undefined ? "—" : percentFormat.format(v); };

  // Money in the reporting currency: whole amounts in tooltips (¥15,714,233), short ones on the
  // axis and the bars by the reader's language (ja: ￥1,571万 / ￥1.2億, en: ¥15.7M / ¥850K).
  function moneyFormats(currency) {
    var whole = new Intl.NumberFormat(lang, { style: "currency", currency: currency,
                                              maximumFractionDigits: 0 });
    var short = new Intl.NumberFormat(lang, { style: "currency", currency: currency,
                                              notation: "compact", maximumSignificantDigits: 3 });
    return {
      whole: function (v) { return v === null || v === undefined ? "—" : whole.format(v); },
      short: function (v) { return short.format(v); }
    };
  }

  var measure = document.createElement("canvas").getContext("2d");
  measure.font = "12px sans-serif";  // ECharts' axis label font
  function textWidth(text) { return measure.measureText(text).width; }

  // A round step near ``x`` (1, 2 or 5 times a power of ten).
  function niceStep(x) {
    var power = Math.pow(10, Math.floor(Math.log10(x)));
    var f = x / power;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * power;
  }

  // The waterfall: the start and end MRR as full bars, each movement as a floating bar on an
  // invisible base, and a value axis that starts near the lowest level (not at 0), so that
  // movements of a few percent of the MRR are visible.
  function waterfallOption(w, money, width) {
    var base = [], bars = [], running = 0, last = w.values.length - 1;
    var lows = [], highs = [];
    w.values.forEach(function (v, i) {
      if (i === 0 || i === last) { base.push("-"); bars.push(v); running = v; lows.push(v); highs.push(v); return; }
      if (v >= 0) { base.push(running); bars.push(v); running += v; }
      else { running += v; base.push(running); bars.push(-v); }
      lows.push(base[i]); highs.push(base[i] + bars[i]);
    });
    var low = Math.min.apply(null, lows), high = Math.max.apply(null, highs);
    var span = high - low || Math.abs(high) * 0.1 || 1;
    var step = niceStep(span / 2);
    var axisMin = Math.max(0, Math.floor((low - span * 0.6) / step) * step);
    if (low <= 0) { axisMin = Math.min(0, Math.floor(low / step) * step); }
    // every label shown: on one line, wrapped between words, or turned when a word is wider
    // than its slot (measured in the axis font, so short Japanese labels stay level)
    var slot = (width - 90) / w.labels.length;
    var widest = function (texts) { return Math.max.apply(null, texts.map(textWidth)); };
    var axisLabel = { interval: 0, hideOverlap: false };
    if (widest(w.labels) > slot - 6) {
      var words = [].concat.apply([], w.labels.map(function (l) { return l.split(/\s+/); }));
      if (widest(words) <= slot - 6) { axisLabel.width = slot - 6; axisLabel.overflow = "break"; }
      else { axisLabel.rotate = 45; }
    }
    return {
      title: { text: w.title, textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" },
                 formatter: function (params) {
                   var i = params[0].dataIndex;
                   return w.labels[i] + ": " + money.whole(w.values[i]);
                 } },
      grid: { left: 10, right: 10, bottom: 10, containLabel: true },
      xAxis: { type: "category", data: w.labels, axisLabel: axisLabel },
      yAxis: { type: "value", min: axisMin, scale: true,
               axisLabel: { formatter: money.short } },
      series: [
        { type: "bar", stack: "w", data: base, silent: true,
          itemStyle: { color: "transparent", borderColor: "transparent" },
          emphasis: { disabled: true }, tooltip: { show: false } },
        { type: "bar", stack: "w",
          label: { show: slot >= 40, position: "top", fontSize: 10,
                   formatter: function (p) { return money.short(w.values[p.dataIndex]); } },
          data: bars.map(function (v, i) {
            var colour = i === 0 || i === last ? "#1f6f8b" : (w.values[i] >= 0 ? "#1b7f3b" : "#b3261e");
            return { value: v, itemStyle: { color: colour } };
          }) }
      ]
    };
  }

  function draw() {
    var source = document.getElementById("dashboard-data");
    if (!source || !window.echarts) { return; }
    var data = JSON.parse(source.textContent);
    var money = moneyFormats(data.currency);
    var charts = [];

    var waterfall = echarts.init(document.getElementById("chart-waterfall"), null, { renderer: "canvas" });
    waterfall.setOption(waterfallOption(data.waterfall, money, waterfall.getWidth()));
    charts.push(waterfall);

    function lines(id, chart) {
      var instance = echarts.init(document.getElementById(id), null, { renderer: "canvas" });
      instance.setOption({
        title: { text: chart.title, textStyle: { fontSize: 14 } },
        tooltip: { trigger: "axis", valueFormatter: percent },
        legend: { bottom: 0 },
        grid: { left: 10, right: 10, bottom: 40, containLabel: true },
        xAxis: { type: "category", data: chart.months },
        yAxis: { type: "value", scale: true, axisLabel: { formatter: percent } },
        series: chart.series.map(function (s) {
          return { id: s.key, name: s.name, type: "line", data: s.data, connectNulls: false,
                   itemStyle: { color: COLOURS[s.key] }, lineStyle: { color: COLOURS[s.key] } };
        })
      });
      charts.push(instance);
    }
    lines("chart-retention", data.retention);
    lines("chart-churn", data.churn);
    window.addEventListener("resize", function () {
      charts.forEach(function (c) { c.resize(); });
      waterfall.setOption(waterfallOption(data.waterfall, money, waterfall.getWidth()));
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); }
  else { draw(); }
})();

// Weekly accounts per health band (Health page and dashboard), stacked bars.
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("bands-data");
    if (!source || !window.echarts) { return; }
    var data = JSON.parse(source.textContent);
    var colours = { green: "#1b7f3b", yellow: "#a86b00", red: "#b3261e" };
    echarts.init(document.getElementById("chart-bands"), null, { renderer: "canvas" }).setOption({
      title: { text: data.title, textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" },
      legend: { bottom: 0 },
      grid: { left: 60, right: 10, bottom: 50 },
      xAxis: { type: "category", data: data.days },
      yAxis: { type: "value" },
      series: data.series.map(function (s) {
        return { name: s.name, type: "bar", stack: "bands", data: s.data,
                 itemStyle: { color: colours[s.band] } };
      })
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); }
  else { draw(); }
})();

// A select marked data-submit-on-change submits its form when a new value is picked (an
// event listener here, since the content security policy allows no inline onchange=).
(function () {
  "use strict";
  function wire() {
    document.querySelectorAll("select[data-submit-on-change]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", wire); }
  else { wire(); }
})();
