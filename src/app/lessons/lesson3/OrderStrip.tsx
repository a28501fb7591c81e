import { fixedFor } from '../fmt';
import type { OrderItem } from './view';

/** The order GPTQ visits the columns in, with each column's diagonal of H. */
export function OrderStrip({ items, actOrder }: { items: OrderItem[]; actOrder: boolean }) {
  const fmt = fixedFor(Math.max(...items.map((i) => Math.abs(i.diagH))));
  return (
    <div className="order-strip">
      <p className="note">
        {actOrder
          ? 'Act-order is on: GPTQ visits columns from the largest diagonal of H down, so the inputs that swing most are settled while there are still many columns left to absorb their error.'
          : 'Act-order is off: GPTQ visits columns in index order.'}
      </p>
      <ol aria-label="Column order" data-testid="l3-order" data-value={items.map((i) => i.column).join(',')}>
        {items.map((i) => (
          <li key={i.column} className={`order-${i.state}`} aria-current={i.state === 'current' ? 'step' : undefined}>
            <span className="order-col">c{i.column}</span>
            <span className="order-diag">H {fmt(i.diagH)}</span>
          </li>
        ))}
      </ol>
    </div>
  );
}
