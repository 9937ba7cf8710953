(function () {
  var d = JSON.parse(document.getElementById('report-data').textContent);
  if (!window.echarts) { return; }
  var opts = {renderer: 'canvas'};
  var c1 = echarts.init(document.getElementById('chart-categories'), null, opts);
  c1.setOption({animation: false, tooltip: {}, legend: {top: 0}, grid: {top: 40, left: 40, right: 20, bottom: 30},
    xAxis: {type: 'category', data: d.months}, yAxis: {type: 'value'},
    series: d.top.map(function (c) { return {name: c.name, type: 'line', data: c.counts}; })});
  var c2 = echarts.init(document.getElementById('chart-index'), null, opts);
  c2.setOption({animation: false, tooltip: {}, grid: {top: 20, left: 40, right: 20, bottom: 80},
    xAxis: {type: 'category', data: d.places.map(function (p) { return p.name; }), axisLabel: {rotate: 40}},
    yAxis: {type: 'value', min: 0, max: 100},
    series: [{name: '化解指数', type: 'bar', data: d.places.map(function (p) { return p.index; })}]});
  document.body.setAttribute('data-charts', 'ready');
})();
