// Draws the Metrics page's cohort heatmap from the JSON the server embedded in the page;
// the radio buttons switch it between logo retention and revenue retention.
(function () {
  "use strict";
  var colours = ["#f7fbff", "#93c3df", "#276aa0", "#08306b"];
  var lang = document.documentElement.lang || "en";
  var percentFormat = new Intl.NumberFormat(lang, { style: "percent", minimumFractionDigits: 1,
                                                    maximumFractionDigits: 1 });
  function percent(v) { return percentFormat.format(v); }

  // The colour scale spans the measure's own figures (its range from the server), so that
  // cohorts between 84 % and 100 % do not all come out one colour.
  function scale(measure) {
    var low = measure.range ? measure.range[0] : 0, high = measure.range ? measure.range[1] : 1;
    return high > low ? [low, high] : [high - 0.01, high];
  }

  function option(data, key, width) {
    var measure = data.measures[key];
    var span = scale(measure);
    // a cell's figure is written in it only where a cell is wide enough to hold it
    var cellWidth = (width - 100) / Math.max(1, data.ages.length);
    return {
      tooltip: {
        formatter: function (p) {
          return data.cohorts[p.value[1]] + " · " + data.x_name + " " + data.ages[p.value[0]] +
            "<br>" + measure.label + ": " + percent(p.value[2]);
        }
      },
      grid: { left: 80, right: 20, top: 40, bottom: 95 },
      xAxis: { type: "category", data: data.ages, name: data.x_name, nameLocation: "middle",
               nameGap: 28, splitArea: { show: true } },
      yAxis: { type: "category", data: data.cohorts, name: data.y_name, nameLocation: "start",
               inverse: true, splitArea: { show: true } },
      visualMap: { min: span[0], max: span[1], calculable: false, orient: "horizontal",
                   left: "center", bottom: 0, itemHeight: 160,
                   text: [percent(span[1]), percent(span[0])], inRange: { color: colours } },
      series: [{
        name: measure.label, type: "heatmap", data: measure.cells,
        label: { show: cellWidth >= 44, fontSize: 11,
                 formatter: function (p) { return percent(p.value[2]); } },
        emphasis: { itemStyle: { borderColor: "#1d2430", borderWidth: 1 } }
      }]
    };
  }

  function draw() {
    var source = document.getElementById("cohort-data");
    var target = document.getElementById("chart-cohorts");
    if (!source || !target || !window.echarts || echarts.getInstanceByDom(target)) { return; }
    var data = JSON.parse(source.textContent);
    target.style.height = Math.max(260, 135 + 34 * data.cohorts.length) + "px";
    var chart = echarts.init(target, null, { renderer: "canvas" });
    var current = "logo_retention";
    chart.setOption(option(data, current, chart.getWidth()));
    var choice = document.getElementById("heatmap-measure");
    if (choice) {
      choice.hidden = false;
      choice.addEventListener("change", function (event) {
        current = event.target.value;
        chart.setOption(option(data, current, chart.getWidth()), { replaceMerge: ["series"] });
      });
    }
    window.addEventListener("resize", function () {
      chart.resize();
      chart.setOption(option(data, current, chart.getWidth()), { replaceMerge: ["series"] });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); }
  else { draw(); }
})();
