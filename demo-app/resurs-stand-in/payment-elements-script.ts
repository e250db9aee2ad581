/** The browser script behind `embed.src`: plain ES5-style JS, no dependencies, fine under a strict CSP. */
import type { ServerResponse } from 'node:http';
import { MOCK_API_PATH } from './constants';

/**
 * Source of `resurs-payment-elements.js`. It defines `window.ResursPaymentElements.mount(container,
 * {sessionId, amount?, locale?, customerType?})`, which lists the session's payment-method groups as
 * radio buttons (each `<label data-method-type="TYPE">`) and sets `data-state` on the container to
 * `loading`, then `ready` or `error`. No eval, no inline style attributes (only `element.style`), no
 * innerHTML. Picking a method dispatches `resurs-payment-method-change` on the container.
 */
export const PAYMENT_ELEMENTS_SCRIPT = `/* Resurs payment elements (stand-in) */
(function () {
  'use strict';
  var API_PATH = ${JSON.stringify(MOCK_API_PATH)};
  var current = document.currentScript;
  var apiBase = current && current.src ? new URL(current.src).origin + API_PATH : '';
  var mounts = 0;

  function el(tag, text) {
    var node = document.createElement(tag);
    if (text) node.textContent = text;
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function showError(container, message) {
    clear(container);
    var box = el('div', message);
    box.setAttribute('data-state', 'error');
    box.setAttribute('role', 'alert');
    box.style.color = '#b00020';
    container.appendChild(box);
    container.setAttribute('data-state', 'error');
  }

  function render(container, groups) {
    clear(container);
    mounts += 1;
    var name = 'resurs-payment-method-' + mounts;
    var list = el('div');
    list.setAttribute('role', 'radiogroup');
    list.setAttribute('aria-label', 'Payment methods');
    groups.forEach(function (group) {
      var label = el('label');
      label.setAttribute('data-method-type', String(group.type));
      label.setAttribute('data-group-id', String(group.id));
      label.style.display = 'block';
      label.style.padding = '8px 0';
      label.style.cursor = 'pointer';
      var input = el('input');
      input.type = 'radio';
      input.name = name;
      input.value = String(group.id);
      input.addEventListener('change', function () {
        container.dispatchEvent(new CustomEvent('resurs-payment-method-change', {
          bubbles: true,
          detail: { id: group.id, type: group.type, methodIds: group.methodIds }
        }));
      });
      var title = el('span', String(group.title));
      title.setAttribute('data-role', 'title');
      title.style.fontWeight = '600';
      title.style.marginLeft = '6px';
      var subtitle = el('span', String(group.subtitle || ''));
      subtitle.setAttribute('data-role', 'subtitle');
      subtitle.style.display = 'block';
      subtitle.style.marginLeft = '26px';
      subtitle.style.opacity = '0.75';
      label.appendChild(input);
      label.appendChild(title);
      label.appendChild(subtitle);
      list.appendChild(label);
    });
    if (groups.length === 0) list.appendChild(el('p', 'No payment methods are available.'));
    container.appendChild(list);
    container.setAttribute('data-state', 'ready');
  }

  function fail(container, message) {
    showError(container, message);
    return Promise.reject(new Error(message));
  }

  function mount(container, options) {
    if (!container || typeof container.appendChild !== 'function') {
      return Promise.reject(new TypeError('ResursPaymentElements.mount needs a container element'));
    }
    var opts = options || {};
    if (typeof opts.sessionId !== 'string' || opts.sessionId === '') {
      return fail(container, 'Payment methods could not be loaded: no payment session');
    }
    if (!apiBase) return fail(container, 'Payment methods could not be loaded: script origin unknown');
    var params = new URLSearchParams();
    if (opts.amount !== undefined && opts.amount !== null) params.set('amount', String(opts.amount));
    if (opts.locale) params.set('locale', String(opts.locale));
    if (opts.customerType) params.set('customerType', String(opts.customerType));
    var query = params.toString();
    var url = apiBase + '/sessions/' + encodeURIComponent(opts.sessionId) + '/payment-method-groups' + (query ? '?' + query : '');
    clear(container);
    container.appendChild(el('p', 'Loading payment methods...'));
    container.setAttribute('data-state', 'loading');
    return fetch(url, { method: 'GET', headers: { Accept: 'application/json' }, credentials: 'omit', mode: 'cors' })
      .then(function (response) {
        return response.json().catch(function () { return null; }).then(function (body) {
          if (!response.ok) {
            throw new Error(body && typeof body.message === 'string'
              ? body.message
              : 'Payment methods could not be loaded (HTTP ' + response.status + ')');
          }
          if (!body || !Array.isArray(body.data)) throw new Error('Payment methods could not be loaded: unexpected answer');
          return body.data;
        });
      }, function () {
        throw new Error('Payment methods could not be loaded: network error');
      })
      .then(function (groups) {
        render(container, groups);
        return { groups: groups };
      }, function (error) {
        showError(container, error.message);
        throw error;
      });
  }

  window.ResursPaymentElements = { version: 'stand-in-1', mount: mount };
})();
`;

const SCRIPT_BYTES = Buffer.from(PAYMENT_ELEMENTS_SCRIPT, 'utf8');

/** Serve the script (GET/HEAD), cross-origin, revalidated on every load. */
export function sendPaymentElementsScript(res: ServerResponse): void {
  res.writeHead(200, {
    'Content-Type': 'application/javascript; charset=utf-8',
    'Content-Length': SCRIPT_BYTES.length,
    'Cache-Control': 'no-cache',
    'Access-Control-Allow-Origin': '*',
    'Cross-Origin-Resource-Policy': 'cross-origin',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(SCRIPT_BYTES);
}
