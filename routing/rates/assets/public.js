(function () {
  var d = JSON.parse(document.getElementById('public-data').textContent);
  if (window.echarts) {
    var c = echarts.init(document.getElementById('chart-trend'), null, {renderer: 'canvas'});
    var series = [{name: d.region_name, type: 'line', data: d.index, lineStyle: {width: 3}}];
    c.setOption({animation: false, tooltip: {trigger: 'axis'}, legend: {top: 0},
      grid: {top: 40, left: 40, right: 20, bottom: 30},
      xAxis: {type: 'category', data: d.months}, yAxis: {type: 'value', min: 0, max: 100}, series: series});
    window.addEventListener('resize', function () { c.resize(); });
    document.body.setAttribute('data-charts', 'ready');
  }
  var form = document.getElementById('survey');
  if (!form) { return; }
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var out = document.getElementById('survey-result');
    fetch(form.action, {method: 'POST', body: new URLSearchParams(new FormData(form)), credentials: 'same-origin'})
      .then(function (r) { return r.json().then(function (j) { return [r.status, j]; }); })
      .then(function (x) { out.textContent = x[1].message || x[1].error; out.setAttribute('data-status', x[0]); })
      .catch(function () { out.textContent = '提交失败，请稍后再试'; });
  });
})();
