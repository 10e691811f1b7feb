/** @type {import('tailwindcss').Config} */
export default {
  content: ['./index.html', './src/**/*.{ts,tsx}'],
  theme: {
    extend: {
      colors: {
        ink: '#1a1a1a',
        stone: { 50: '#faf9f7', 100: '#f2f0ec', 200: '#e4e0d8', 500: '#8a8377', 700: '#4f4a42' },
        accent: { DEFAULT: '#1f3a5f', dark: '#152a45' },
      },
    },
  },
  plugins: [],
};
