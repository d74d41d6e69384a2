import { connectSearchBox } from 'instantsearch.js/es/connectors';

export interface SuggestionBoxParams {
  container: HTMLElement;
  /** Completions of what was typed, best first (the API's /suggest). */
  suggest: (q: string, signal: AbortSignal) => Promise<string[]>;
}

const DEBOUNCE_MS = 80;

/**
 * A search box that searches as you type and lists completions under it (arrow keys or the
 * mouse pick one; Escape closes the list). Suggestions are set as text nodes, never as markup;
 * only the answer to the latest keystroke is shown.
 */
export const suggestionBox = connectSearchBox<SuggestionBoxParams>((render, isFirstRender) => {
  const { container, suggest } = render.widgetParams;
  if (!isFirstRender) {
    const input = container.querySelector('input') as HTMLInputElement;
    if (document.activeElement !== input && input.value !== render.query) input.value = render.query;
    return;
  }
  const form = document.createElement('form');
  form.className = 'searchbox';
  form.setAttribute('role', 'search');
  const input = document.createElement('input');
  input.type = 'search';
  input.name = 'q';
  input.placeholder = 'Search…';
  input.autocomplete = 'off';
  input.setAttribute('aria-label', 'Search');
  input.setAttribute('aria-autocomplete', 'list');
  input.setAttribute('aria-controls', 'suggestions');
  const list = document.createElement('ul');
  list.id = 'suggestions';
  list.className = 'suggestions';
  list.setAttribute('role', 'listbox');
  list.hidden = true;
  form.append(input, list);
  container.append(form);

  let active = -1;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inflight: AbortController | undefined;
  const items = () => [...list.querySelectorAll('li')];
  const close = () => {
    list.hidden = true;
    list.replaceChildren();
    active = -1;
  };
  const pick = (text: string) => {
    input.value = text;
    close();
    render.refine(text);
  };
  const mark = (i: number) => {
    active = i;
    items().forEach((li, n) => li.setAttribute('aria-selected', String(n === i)));
  };
  const show = (suggestions: string[]) => {
    list.replaceChildren(
      ...suggestions.map((s, n) => {
        const li = document.createElement('li');
        li.setAttribute('role', 'option');
        li.id = `suggestion-${n}`;
        li.textContent = s;
        // mousedown, not click: it comes before the input's blur closes the list.
        li.addEventListener('mousedown', (e) => {
          e.preventDefault();
          pick(s);
        });
        return li;
      }),
    );
    list.hidden = suggestions.length === 0;
    active = -1;
  };

  input.addEventListener('input', () => {
    const q = input.value;
    render.refine(q);
    clearTimeout(timer);
    inflight?.abort();
    if (!q.trim()) return close();
    timer = setTimeout(() => {
      const ctl = new AbortController();
      inflight = ctl;
      suggest(q, ctl.signal).then(
        (s) => {
          if (inflight === ctl && input.value === q) show(s);
        },
        () => undefined, // a failed or aborted suggestion leaves the search itself alone
      );
    }, DEBOUNCE_MS);
  });
  input.addEventListener('keydown', (e) => {
    const n = items().length;
    if (e.key === 'ArrowDown' && n) {
      e.preventDefault();
      mark((active + 1) % n);
    } else if (e.key === 'ArrowUp' && n) {
      e.preventDefault();
      mark((active - 1 + n) % n);
    } else if (e.key === 'Escape') close();
    else if (e.key === 'Enter' && active >= 0) {
      e.preventDefault();
      pick(items()[active]?.textContent ?? input.value);
    }
  });
  input.addEventListener('blur', close);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    close();
    render.refine(input.value);
  });
  input.value = render.query;
});
