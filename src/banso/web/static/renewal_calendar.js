// Draws the renewal calendar: per month, the MRR renewed and the MRR not renewed stacked (their
// sum is the MRR due), from the JSON the server embedded; months not over are shaded.
(function () {
  "use strict";
  var lang = document.documentElement.lang || "en";
  var money = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });

  function draw() {
    var box = document.getElementById("chart-renewals");
    var source = document.getElementById("renewal-data");
    if (!box || !source || typeof echarts === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var chart = echarts.init(box);
    var future = data.future_from === null ? [] :
      [[{ xAxis: data.months[data.future_from] }, { xAxis: data.months[data.months.length - 1] }]];
    chart.setOption({
      tooltip: { trigger: "axis", valueFormatter: function (v) { return money.format(v); } },
      legend: { data: [data.labels.renewed, data.labels.lost], top: 0 },
      grid: { left: 90, right: 20, top: 40, bottom: 60 },
      xAxis: { type: "category", data: data.months, axisLabel: { rotate: 45 } },
      yAxis: { type: "value", name: data.labels.currency,
               axisLabel: { formatter: function (v) { return money.format(v); } } },
      series: [
        { name: data.labels.renewed, type: "bar", stack: "due", data: data.renewed,
          itemStyle: { color: "#276aa0" },
          markArea: { silent: true, itemStyle: { color: "rgba(0,0,0,0.05)" }, data: future } },
        { name: data.labels.lost, type: "bar", stack: "due", data: data.lost,
          itemStyle: { color: "#c0392b" } }
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
}());
