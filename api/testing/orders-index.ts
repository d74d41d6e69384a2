import { parsePipelineConfig } from '../../config/pipeline';

/**
 * An index of joined documents (docs/joined-documents.md) with every shape of relation the API
 * treats differently: a many-to-one object (`customer`), a nested array (`items`) holding an
 * object (`items.product`) and a nested array of its own (`items.discounts`, two nested
 * levels), and an array mapped as plain objects (`tags`, `nested: false`).
 */
export const ordersConfig = {
  version: 1,
  indexes: {
    orders: {
      table: 'shop.orders',
      fields: {
        number: { type: 'keyword', searchable: true, boost: 3, filterable: true, sortable: true },
        status: { type: 'keyword', filterable: true, facetable: true },
        total: { type: 'double', filterable: true, sortable: true },
        placed_at: { type: 'date', filterable: true, sortable: true },
      },
      relations: {
        customer: {
          table: 'shop.customers', kind: 'many-to-one', on: { customer_id: 'id' },
          fields: { name: { type: 'text', searchable: true, boost: 2, sortable: true }, country: { type: 'keyword', filterable: true, facetable: true, sortable: true } },
        },
        items: {
          table: 'shop.items', kind: 'one-to-many', on: { id: 'order_id' },
          fields: { qty: { type: 'integer', filterable: true, sortable: true } },
          relations: {
            product: {
              table: 'shop.products', kind: 'many-to-one', on: { product_id: 'id' },
              fields: { title: { type: 'text', searchable: true, filterable: true }, category: { type: 'keyword', filterable: true, facetable: true } },
            },
            discounts: { table: 'shop.discounts', kind: 'one-to-many', on: { id: 'item_id' }, fields: { code: { type: 'keyword', searchable: true, filterable: true, facetable: true } } },
          },
        },
        tags: {
          table: 'shop.tags', kind: 'many-to-many', on: { id: 'order_id' }, through: { table: 'shop.order_tags', on: { tag_id: 'id' } }, nested: false,
          fields: { label: { type: 'keyword', searchable: true, filterable: true, facetable: true } },
        },
      },
    },
  },
};

export const ordersPipeline = parsePipelineConfig(JSON.stringify(ordersConfig));
export const orders = ordersPipeline.indexes[0]!;
