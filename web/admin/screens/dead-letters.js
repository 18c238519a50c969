// 死信事件 (administrators): events an in-process consumer gave up on, with its last error.
import { html } from '/ui/vendor/preact-htm.js';
import { formatTime } from '/ui/shared/format.js';
import { api } from '../session.js';
import { Alert, Button, Card, ErrorAlert, JSONBlock, PageHeader, Table } from '../ui.js';
import { useLoad } from '/ui/shared/ui.js';

export default function DeadLetters() {
  const list = useLoad(() => api.get('/api/v1/admin/events/dead-letters'), []);
  return html`
    <${PageHeader} title="死信事件" extra=${html`<${Button} busy=${list.loading} onClick=${list.reload}>刷新<//>`} />
    <${Alert} kind="info">消费者重试 10 次仍失败的事件会移到这里（最新的 100 条），不会阻塞其他事件。使用 RabbitMQ 时，死信在各消费者的 .dlq 队列中。<//>
    <${Card}>
      ${list.error ? html`<${ErrorAlert} error=${list.error} />` : null}
      <${Table}
        loading=${list.loading}
        rowKey=${(d) => `${d.event_id}-${d.consumer}`}
        rows=${list.data ? list.data.items : []}
        empty="没有死信，一切正常"
        expand=${(d) => html`<${JSONBlock} value=${d.event} />`}
        columns=${[
          { title: '时间', class: 'small nowrap', render: (d) => formatTime(d.created_at) },
          { title: '事件类型', render: (d) => html`<span class="mono small">${d.type}</span>` },
          { title: '消费者', render: (d) => d.consumer || html`<span class="muted">（无法解析）</span>` },
          { title: '尝试次数', class: 'num', key: 'attempts' },
          { title: '失败原因', render: (d) => html`<span class="small">${d.error}</span>` },
          { title: '事件 ID', render: (d) => html`<span class="mono small">${d.event_id}</span>` },
        ]}
      />
    <//>
  `;
}
