// Draws the program dashboard's charts with Chart.js from the JSON the page embeds
// (<script type="application/json">, so the Content Security Policy needs no exception).
// Every number drawn is also in the table beside its chart.
(function () {
  "use strict";
  if (typeof window.Chart === "undefined") {
    return;
  }
  var source = document.getElementById("dashboard-charts");
  if (!source) {
    return;
  }
  var data = JSON.parse(source.textContent);
  var BLUE = "rgba(27, 79, 143, 0.85)";
  var GREEN = "rgba(23, 96, 58, 0.85)";
  var RED = "rgba(163, 22, 28, 0.8)";

  // The 95% interval of each bar as a vertical whisker.
  var whiskers = {
    id: "kapcareWhiskers",
    afterDatasetsDraw: function (chart) {
      var ctx = chart.ctx;
      var y = chart.scales.y;
      chart.data.datasets.forEach(function (dataset, index) {
        var meta = chart.getDatasetMeta(index);
        (dataset.intervals || []).forEach(function (bounds, i) {
          var bar = meta.data[i];
          if (!bounds || !bar) {
            return;
          }
          var top = y.getPixelForValue(bounds[1]);
          var bottom = y.getPixelForValue(bounds[0]);
          ctx.save();
          ctx.strokeStyle = "#16202c";
          ctx.lineWidth = 1.5;
          ctx.beginPath();
          ctx.moveTo(bar.x, top);
          ctx.lineTo(bar.x, bottom);
          ctx.moveTo(bar.x - 5, top);
          ctx.lineTo(bar.x + 5, top);
          ctx.moveTo(bar.x - 5, bottom);
          ctx.lineTo(bar.x + 5, bottom);
          ctx.stroke();
          ctx.restore();
        });
      });
    }
  };

  function canvas(name) {
    return document.querySelector('canvas[data-dashboard-chart="' + name + '"]');
  }

  var protocols = canvas("protocols");
  if (protocols && data.protocols.length) {
    new window.Chart(protocols, {
      type: "bar",
      data: {
        labels: data.protocols.map(function (row) { return row.label; }),
        datasets: [
          {
            label: "Response %",
            data: data.protocols.map(function (row) { return row.response; }),
            intervals: data.protocols.map(function (row) { return row.response_ci; }),
            backgroundColor: BLUE
          },
          {
            label: "Remission %",
            data: data.protocols.map(function (row) { return row.remission; }),
            intervals: data.protocols.map(function (row) { return row.remission_ci; }),
            backgroundColor: GREEN
          }
        ]
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: { y: { min: 0, max: 100, title: { display: true, text: "% of courses (95% interval)" } } }
      },
      plugins: [whiskers]
    });
  }

  var months = canvas("months");
  if (months && data.months.length) {
    new window.Chart(months, {
      type: "bar",
      data: {
        labels: data.months.map(function (row) { return row.month; }),
        datasets: [{
          label: "Courses started",
          data: data.months.map(function (row) { return row.courses; }),
          backgroundColor: BLUE
        }]
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        plugins: { legend: { display: false } },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
      }
    });
  }

  var safety = canvas("safety");
  if (safety && data.safety.length) {
    new window.Chart(safety, {
      type: "bar",
      data: {
        labels: data.safety.map(function (row) { return row.label; }),
        datasets: [{
          label: "Per 100 dosing sessions",
          data: data.safety.map(function (row) { return row.per100; }),
          backgroundColor: RED
        }]
      },
      options: {
        indexAxis: "y",
        animation: false,
        maintainAspectRatio: false,
        plugins: { legend: { display: false } },
        scales: { x: { beginAtZero: true, title: { display: true, text: "per 100 dosing sessions" } } }
      }
    });
  }
}());
