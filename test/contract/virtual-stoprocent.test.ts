/** The link contract over the virtual radio with @stoprocent/noble and @stoprocent/bleno. */
import { defineLinkContract } from './suite.js';
import { virtualTransport } from './virtual.js';

defineLinkContract('virtual radio, @stoprocent noble + bleno', virtualTransport('stoprocent'));
