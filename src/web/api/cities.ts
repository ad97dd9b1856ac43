// GET /cities: the cities MovR serves (nine by default; see MOVR_REGIONS) and their regions.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { CityList, responses, toApiCity } from './schemas.ts';

export const citiesRoutes: FastifyPluginAsyncZod = async (app) => {
  const { config, regions } = app;
  app.get(
    '/cities',
    {
      schema: {
        tags: ['cities'],
        summary: 'The cities MovR serves',
        description: 'Grouped by region; the cities of the region this instance serves (MOVR_REGION) come first.',
        response: responses({ 200: CityList.describe('Every city, with its region.') }),
      },
    },
    async () => ({
      instance_region: config.region ?? null,
      items: regions.citiesByRegion(config.region).flatMap((region) => region.cities.map(toApiCity)),
    }),
  );
};
