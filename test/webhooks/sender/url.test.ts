import { describe, expect, it } from 'vitest';
import {
  MAX_ENDPOINT_URL_LENGTH,
  validateEndpointUrl,
} from '../../../src/webhooks/sender/index.ts';

describe('validateEndpointUrl', () => {
  it.each([
    'https://hooks.example.com/admatrix',
    'https://hooks.example.com:8443/in?tenant=t1&x=%20y',
    'https://HOOKS.Example.com./in',
    'https://93.184.215.14/in',
    'https://[2606:4700:4700::1111]/in',
  ])('accepts %s', (url) => {
    expect(validateEndpointUrl(url)).toEqual([]);
  });

  it.each([
    ['http://hooks.example.com/', ['url must use https']],
    ['ftp://hooks.example.com/', ['url must use https']],
    ['javascript:alert(1)', ['url must use https']],
    ['https://user:secret@hooks.example.com/', ['url must not contain credentials']],
    ['https://user@hooks.example.com/', ['url must not contain credentials']],
    ['https://hooks.example.com/#section', ['url must not contain a fragment']],
    ['https://hooks.example.com/#', ['url must not contain a fragment']],
    ['/relative/path', ['url is not a valid absolute URL']],
    ['https://', ['url is not a valid absolute URL']],
    [' https://hooks.example.com/', ['url must not have leading or trailing whitespace']],
    [
      `https://hooks.example.com/${'a'.repeat(MAX_ENDPOINT_URL_LENGTH)}`,
      [`url must be at most ${MAX_ENDPOINT_URL_LENGTH} characters`],
    ],
    [
      'http://u:p@hooks.example.com/#x',
      ['url must use https', 'url must not contain credentials', 'url must not contain a fragment'],
    ],
  ])('rejects %s', (url, problems) => {
    expect(validateEndpointUrl(url)).toEqual(problems);
  });

  it.each([
    ['https://127.0.0.1/', 'address 127.0.0.1 is not allowed: loopback'],
    ['https://0x7f.1/', 'address 127.0.0.1 is not allowed: loopback'],
    ['https://[::ffff:127.0.0.1]/', 'address ::ffff:7f00:1 is not allowed: IPv4-mapped IPv6'],
    [
      'https://169.254.169.254/latest',
      'address 169.254.169.254 is not allowed: link-local/cloud metadata',
    ],
    ['https://10.1.2.3/', 'address 10.1.2.3 is not allowed: private'],
    ['https://localhost/', 'host localhost is not allowed: loopback'],
    ['https://api.localhost/', 'host api.localhost is not allowed: loopback'],
    ['https://redis:6379/', 'host must be a fully qualified domain name'],
  ])('rejects the internal host in %s early', (url, problem) => {
    expect(validateEndpointUrl(url)).toEqual([problem]);
  });

  describe('allowHttp', () => {
    it('true allows http to any host', () => {
      expect(validateEndpointUrl('http://hooks.example.com/', { allowHttp: true })).toEqual([]);
    });

    it('a list allows http only to those hosts', () => {
      const policy = { allowHttp: ['receiver.example.com', '[::1]'], allowHosts: ['::1'] };
      expect(validateEndpointUrl('http://Receiver.example.com:8080/', policy)).toEqual([]);
      expect(validateEndpointUrl('http://[::1]:8080/', policy)).toEqual([]);
      expect(validateEndpointUrl('http://other.example.com/', policy)).toEqual([
        'url must use https',
      ]);
      expect(validateEndpointUrl('https://other.example.com/', policy)).toEqual([]);
    });
  });

  it('allowHosts exempts the listed hosts from the internal-host checks only', () => {
    const policy = { allowHosts: ['127.0.0.1', 'receiver'], allowHttp: ['127.0.0.1'] };
    expect(validateEndpointUrl('http://127.0.0.1:3000/hook', policy)).toEqual([]);
    expect(validateEndpointUrl('https://receiver/hook', policy)).toEqual([]);
    expect(validateEndpointUrl('http://receiver/hook', policy)).toEqual(['url must use https']);
    expect(validateEndpointUrl('https://127.0.0.2/', policy)).toEqual([
      'address 127.0.0.2 is not allowed: loopback',
    ]);
  });
});
