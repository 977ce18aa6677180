import type { KeyboardEvent, ReactNode } from 'react';

/**
 * A form that never submits natively: the CSP's `form-action 'none'` makes Chromium drop native
 * submissions (no submit event fires), so Enter in a field and the primary button call `onSubmit`.
 */
export function Form({
  onSubmit,
  children,
  className,
  testid,
}: {
  onSubmit: () => void;
  children: ReactNode;
  className?: string;
  testid?: string;
}) {
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const t = e.target as HTMLElement;
    if (e.key === 'Enter' && t.tagName === 'INPUT' && (t as HTMLInputElement).type !== 'checkbox') {
      e.preventDefault();
      onSubmit();
    }
  };
  return (
    <div role="form" className={className} data-testid={testid} onKeyDown={onKeyDown}>
      {children}
    </div>
  );
}
